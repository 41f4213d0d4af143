import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';

/**
 * A scripted OpenAI-compatible endpoint on loopback for driving the real Copilot CLI offline.
 * Each chat request takes the next scripted reply (text, or tool calls the test chooses) and is
 * recorded, so a test can see exactly what history the CLI sent.
 */
export type Reply = { text: string } | { toolCalls: Array<{ name: string; arguments: Record<string, unknown> }> };

export interface ChatMessage {
  role: string;
  content?: unknown;
  tool_calls?: Array<{ id: string; function: { name: string; arguments: string } }>;
  tool_call_id?: string;
}

export interface ChatRequest {
  model: string;
  messages: ChatMessage[];
}

export const FAKE_MODEL_ID = 'beam-test-model';

export class FakeModel {
  readonly requests: ChatRequest[] = [];
  private readonly script: Reply[] = [];
  private server: Server | undefined;
  private calls = 0;

  /** Queues replies; when the queue is empty the model answers "done". */
  enqueue(...replies: Reply[]): void {
    this.script.push(...replies);
  }

  async start(): Promise<string> {
    this.server = createServer((request, response) => void this.handle(request, response));
    await new Promise<void>((resolve) => this.server!.listen(0, '127.0.0.1', resolve));
    return `http://127.0.0.1:${(this.server.address() as AddressInfo).port}/v1`;
  }

  async stop(): Promise<void> {
    this.server?.closeAllConnections();
    await new Promise<void>((resolve) => (this.server ? this.server.close(() => resolve()) : resolve()));
  }

  private async handle(request: IncomingMessage, response: ServerResponse): Promise<void> {
    let body = '';
    for await (const chunk of request) body += String(chunk);
    if (request.url?.endsWith('/models')) {
      response.setHeader('content-type', 'application/json');
      response.end(JSON.stringify({ object: 'list', data: [{ id: FAKE_MODEL_ID, object: 'model', created: 0, owned_by: 'tests' }] }));
      return;
    }
    const chat = JSON.parse(body || '{}') as ChatRequest;
    this.requests.push(chat);
    const reply = this.script.shift() ?? { text: 'done' };
    this.calls++;
    response.writeHead(200, { 'content-type': 'text/event-stream' });
    const chunk = (delta: object, finishReason: string | null = null): void => {
      const payload = { id: `chat-${this.calls}`, object: 'chat.completion.chunk', created: 0, model: FAKE_MODEL_ID, choices: [{ index: 0, delta, finish_reason: finishReason }] };
      response.write(`data: ${JSON.stringify(payload)}\n\n`);
    };
    if ('text' in reply) {
      chunk({ role: 'assistant', content: reply.text });
      chunk({}, 'stop');
    } else {
      chunk({
        role: 'assistant',
        tool_calls: reply.toolCalls.map((call, index) => ({
          index,
          id: `call_${this.calls}_${index}`,
          type: 'function',
          function: { name: call.name, arguments: JSON.stringify(call.arguments) },
        })),
      });
      chunk({}, 'tool_calls');
    }
    response.write('data: [DONE]\n\n');
    response.end();
  }
}

/** Every message's text, flattened, for "did the CLI send this history" assertions. */
export function transcript(request: ChatRequest): string {
  return request.messages.map((message) => `${message.role}: ${JSON.stringify(message.content ?? '')} ${JSON.stringify(message.tool_calls ?? '')}`).join('\n');
}

/** A message's text: its string content, or the text parts of structured content. */
export function messageText(message: ChatMessage): string {
  const { content } = message;
  if (typeof content === 'string') return content;
  if (Array.isArray(content)) return content.map((part) => (typeof part === 'object' && part && 'text' in part ? String((part as { text: unknown }).text) : JSON.stringify(part))).join('');
  return JSON.stringify(content ?? '');
}
