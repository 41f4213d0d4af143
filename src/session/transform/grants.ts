import type { Json } from './active-state.js';

/** What was taken out of the history's events, for the report. */
export interface GrantCounts {
  /** Tool approvals a skill carried, in its field or in its text's front matter. */
  approvals: number;
  /** Remote steering and MCP "all tools" switches turned off. */
  switches: number;
}

/**
 * A line that declares tools a skill may use without asking, and the indented or "- " list lines
 * under it (never a "---" that closes the front matter). The
 * client reads `allowed-tools:` from the skill text whenever the field is absent or empty, so
 * removing the field alone gives the grant back.
 */
const ALLOWED_TOOLS_DECLARATION = /^[ \t]*["']?allowed[-_ ]?tools["']?[ \t]*:.*(?:\r?\n(?:[ \t]+.*|-[ \t].*))*(?:\r?\n|$)/gim;

/**
 * Events whose data the client turns into standing grants on resume, rewritten without them.
 * Returns `data` itself when there was nothing to take out.
 */
export function withoutGrants(type: string, data: Json, counts: GrantCounts): Json {
  switch (type) {
    case 'skill.invoked':
      return withoutSkillApprovals(data, counts);
    case 'session.start':
    case 'session.resume':
      return withoutRemoteSwitches(data, counts, true);
    case 'session.remote_steerable_changed':
      return withoutRemoteSwitches(data, counts, false);
    default:
      return data;
  }
}

function withoutSkillApprovals(data: Json, counts: GrantCounts): Json {
  let result = data;
  if ('allowedTools' in result) {
    counts.approvals += Array.isArray(result.allowedTools) ? result.allowedTools.length : 1;
    const { allowedTools: _dropped, ...rest } = result;
    result = rest;
  }
  if (typeof result.content === 'string') {
    let declared = 0;
    const content = result.content.replace(ALLOWED_TOOLS_DECLARATION, (declaration: string) => {
      declared += countTools(declaration);
      return '';
    });
    if (content !== result.content) {
      counts.approvals += Math.max(declared, 1);
      result = { ...result, content };
    }
  }
  return result;
}

/** "allowed-tools: bash, write" or a YAML list under the key: how many tools it names. */
function countTools(declaration: string): number {
  const [first = '', ...rest] = declaration.split(/\r?\n/);
  const inline = (first.split(':').slice(1).join(':').match(/[A-Za-z0-9_*().:-]+/g) ?? []).length;
  const listed = rest.filter((line) => /^\s*-\s*\S/.test(line)).length;
  return inline + listed;
}

/** Remote steering (a web page driving this session) and the GitHub MCP server's "all tools". */
function withoutRemoteSwitches(data: Json, counts: GrantCounts, mayHaveMcpConfig: boolean): Json {
  let result = data;
  if (result.remoteSteerable === true) {
    counts.switches++;
    result = { ...result, remoteSteerable: false };
  }
  if (mayHaveMcpConfig && 'githubMcpToolConfig' in result) {
    counts.switches++;
    const { githubMcpToolConfig: _dropped, ...rest } = result;
    result = rest;
  }
  return result;
}
