import { BeamError } from '../errors.js';

const COMMANDS = ['send', 'receive', 'list', 'inspect', 'doctor', 'dht', 'relay', 'completion'];
const NETWORK = ['--bootstrap', '--relay', '--timeout', '--idle-timeout', '--json', '--no-color', '--help'];
const OPTIONS: Record<string, string[]> = {
  send: ['--code-length', '--no-qr', '--yes', '--allow-shared', '--verify', '--redact', '--with-changes', '--no-changes', ...NETWORK],
  receive: ['--yes', '--verify', '--force', '--cwd', '--worktree', '--max-size', ...NETWORK],
  list: ['--json', '--help'],
  inspect: ['--json', '--help'],
  doctor: ['--bootstrap', '--relay', '--json', '--help'],
  dht: ['--port', '--host', '--nodes', '--json', '--help'],
  relay: ['--bootstrap', '--key-file', '--host', '--port', '--json', '--help'],
  completion: ['bash', 'zsh', 'fish'],
};
/** Options whose value is a folder or a file: the shell completes paths there. */
const PATH_OPTIONS = ['--cwd', '--worktree', '--key-file'];

/** Shell completion scripts: commands and options (session ids come from `copilot-beam list`). */
export function completionScript(shell: string): string {
  switch (shell) {
    case 'bash':
      return bash();
    case 'zsh':
      return `autoload -U +X bashcompinit && bashcompinit\n${bash()}`;
    case 'fish':
      return fish();
    default:
      throw new BeamError('usage', `no completion for "${shell}": choose bash, zsh or fish`);
  }
}

function bash(): string {
  const cases = Object.entries(OPTIONS)
    .map(([command, options]) => `    ${command}) COMPREPLY=($(compgen -W "${options.join(' ')}${command === 'send' || command === 'inspect' ? ' $(copilot-beam list --json 2>/dev/null | sed -n \'s/.*"id":"\\([^"]*\\)".*/\\1/p\')' : ''}" -- "$cur")) ;;`)
    .join('\n');
  return `# copilot-beam bash completion: eval "$(copilot-beam completion bash)"
_copilot_beam() {
  local cur="\${COMP_WORDS[COMP_CWORD]}" prev="\${COMP_WORDS[COMP_CWORD-1]}"
  case "$prev" in
    ${PATH_OPTIONS.join('|')}) COMPREPLY=($(compgen -f -- "$cur")) ; return ;;
  esac
  if [ "$COMP_CWORD" -eq 1 ]; then
    COMPREPLY=($(compgen -W "${COMMANDS.join(' ')} --help --version" -- "$cur"))
    return
  fi
  case "\${COMP_WORDS[1]}" in
${cases}
  esac
}
complete -F _copilot_beam copilot-beam
`;
}

function fish(): string {
  const lines = ['# copilot-beam fish completion: copilot-beam completion fish | source', 'complete -c copilot-beam -f'];
  for (const command of COMMANDS) lines.push(`complete -c copilot-beam -n '__fish_use_subcommand' -a ${command}`);
  for (const [command, options] of Object.entries(OPTIONS)) {
    for (const option of options) {
      const takesPath = PATH_OPTIONS.includes(option) ? ' -r -F' : '';
      lines.push(option.startsWith('--')
        ? `complete -c copilot-beam -n '__fish_seen_subcommand_from ${command}' -l ${option.slice(2)}${takesPath}`
        : `complete -c copilot-beam -n '__fish_seen_subcommand_from ${command}' -a ${option}`);
    }
  }
  return `${lines.join('\n')}\n`;
}
