import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { mkdir, readFile, readdir, readlink, rm, symlink, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { describe, test } from 'node:test';
import { BeamError } from '../src/errors.js';
import { applyWork, type AppliedWork } from '../src/session/work/apply.js';
import { planWork } from '../src/session/work/plan.js';
import { checkoutDrift } from '../src/session/checkout-drift.js';
import { captureWork } from '../src/session/work/capture.js';
import { WORK_FILES, type WorkDescription } from '../src/session/work/description.js';
import { decodeWorkDescription } from '../src/session/work/decode.js';
import { whyWorkFilesDiffer } from '../src/session/work/expected.js';
import type { ManifestFile } from '../src/bundle/manifest.js';
import { tempDir, treeDigest } from './helpers/e2e.js';
import { failure } from './helpers/failure.js';
import { git, repositories, snapshot, workInProgress } from './helpers/git-repos.js';

/*
 * Work in progress carried between two real clones of one bare repository: unpushed commits,
 * staged, unstaged, binary and untracked changes arrive as they were, the sender's checkout is
 * only read, the receiver's own changes are kept, and hostile pieces change nothing.
 */

async function captured(laptop: string, root: string): Promise<{ workDir: string; description: WorkDescription }> {
  const workDir = join(root, `carried-${Math.random().toString(36).slice(2)}`);
  const { description } = await captureWork(laptop, workDir);
  return { workDir, description };
}

/** Plans the landing as the receiver would before the session arrives, then applies the work. */
async function land(checkout: string, workDir: string, description: WorkDescription, label: string): Promise<AppliedWork> {
  return applyWork({ plan: await planWork(checkout, label), workDir, description });
}

/** Runs `attempt`, which must fail, and checks that it left the repository at `checkout` exactly as it was. */
async function refusedAsItWas(checkout: string, attempt: () => Promise<unknown>): Promise<BeamError> {
  const before = snapshot(checkout);
  const error = await failure(attempt());
  assert.equal(snapshot(checkout), before, 'the repository as it was');
  return error;
}

describe('carrying the work of a checkout', () => {
  test('commits, staged, unstaged, binary and untracked changes arrive as they were, in the clean checkout on a beam/ branch', async () => {
    const repos = await repositories();
    await workInProgress(repos.laptop);
    const laptopBefore = snapshot(repos.laptop);
    const indexBefore = await readFile(join(repos.laptop, '.git', 'index'));
    const { workDir, description } = await captured(repos.laptop, repos.root);
    const capture = await captureWork(repos.laptop, join(repos.root, 'again'));
    assert.deepEqual(capture.summary, {
      branch: 'main',
      commits: 1,
      changedFiles: 2,
      newFiles: 2,
      bytes: capture.summary.bytes,
      leftOut: ['link-out (a symbolic link)'],
    });
    assert.deepEqual(description.untracked, [{ path: 'run.sh', mode: 0o755 }, { path: 'src/new/module.ts', mode: 0o644 }]);

    const refs = (dir: string): string[] => git(dir, 'for-each-ref', '--format=%(refname) %(objectname)').split('\n');
    const refsBefore = refs(repos.codespace);
    const applied = await land(repos.codespace, workDir, description, 'Fix the parser');
    assert.equal(applied.inPlace, true);
    // The bundle names refs/heads/main; the only ref written is the new beam/ branch.
    assert.deepEqual(refs(repos.codespace).filter((line) => !refsBefore.includes(line)), [`refs/heads/beam/fix-the-parser ${git(repos.laptop, 'rev-parse', 'HEAD')}`]);
    assert.deepEqual(refsBefore.filter((line) => !refs(repos.codespace).includes(line)), [], 'no ref was changed or removed');
    assert.equal(applied.root, repos.codespace);
    assert.equal(applied.branch, 'beam/fix-the-parser');
    assert.equal(git(repos.codespace, 'rev-parse', 'HEAD'), git(repos.laptop, 'rev-parse', 'HEAD'));
    assert.equal(git(repos.codespace, 'symbolic-ref', 'HEAD'), 'refs/heads/beam/fix-the-parser');
    assert.equal(applied.status, description.status, 'the same git status as on the source');
    for (const path of ['app.txt', 'logo.bin', 'run.sh', join('src', 'new', 'module.ts')]) {
      assert.ok((await readFile(join(repos.codespace, path))).equals(await readFile(join(repos.laptop, path))), `${path} is byte-identical`);
    }
    assert.equal(git(repos.codespace, 'diff', '--cached', '--stat').includes('app.txt'), true, 'the staged change is staged');
    assert.equal(execFileSync('stat', ['-c', '%a', join(repos.codespace, 'run.sh')], { encoding: 'utf8' }).trim(), '755');
    assert.ok(!(await readdir(repos.codespace)).includes('secret.env'), 'ignored files stay behind');
    assert.ok(!(await readdir(repos.codespace)).includes('link-out'), 'symbolic links stay behind');
    assert.equal(snapshot(repos.laptop), laptopBefore, 'the sender only read its checkout');
    assert.ok((await readFile(join(repos.laptop, '.git', 'index'))).equals(indexBefore), 'not even the index was rewritten');
  });

  test('a checkout with changes of its own keeps them: the work goes into a new worktree beside it', async () => {
    const repos = await repositories();
    await workInProgress(repos.laptop);
    await writeFile(join(repos.codespace, 'app.txt'), 'the codespace has its own edit\n');
    const before = await treeDigest(repos.codespace);
    const branchBefore = git(repos.codespace, 'symbolic-ref', 'HEAD');
    const { workDir, description } = await captured(repos.laptop, repos.root);
    const applied = await land(repos.codespace, workDir, description, 'Fix the parser');
    assert.equal(applied.inPlace, false);
    assert.equal(applied.root, join(repos.root, 'codespace-beam-fix-the-parser'));
    assert.equal(applied.status, description.status);
    assert.ok((await readFile(join(applied.root, 'app.txt'))).equals(await readFile(join(repos.laptop, 'app.txt'))));
    assert.equal(git(repos.codespace, 'symbolic-ref', 'HEAD'), branchBefore);
    const outsideGit = (digest: Map<string, string>): Array<[string, string]> => [...digest].filter(([path]) => !path.startsWith('.git/'));
    assert.deepEqual(outsideGit(await treeDigest(repos.codespace)), outsideGit(before), 'its files are untouched');

    // A second beam of the same work gets its own branch and folder.
    const again = await land(repos.codespace, workDir, description, 'Fix the parser');
    assert.equal(again.branch, 'beam/fix-the-parser-2');
    assert.equal(again.root, join(repos.root, 'codespace-beam-fix-the-parser-2'));
    await again.undo();
    await applied.undo();
    assert.equal(git(repos.codespace, 'worktree', 'list').split('\n').length, 1, 'undo removes the worktrees');
  });

  test('a receiver that lacks the commits the work builds on is told to fetch, and nothing changes', async () => {
    const repos = await repositories();
    // The laptop pushes a commit the codespace never fetched, then builds on it.
    await writeFile(join(repos.laptop, 'app.txt'), 'pushed later\n');
    git(repos.laptop, 'commit', '--quiet', '-am', 'pushed');
    git(repos.laptop, 'push', '--quiet', 'origin', 'main');
    await workInProgress(repos.laptop);
    const { workDir, description } = await captured(repos.laptop, repos.root);
    const error = await refusedAsItWas(repos.codespace, () => land(repos.codespace, workDir, description, 'x'));
    assert.match(error.message, /build on commits this checkout lacks: run "git fetch" in .* and receive again/);

    git(repos.codespace, 'fetch', '--quiet');
    const applied = await land(repos.codespace, workDir, description, 'x');
    assert.equal(applied.status, description.status, 'after a fetch it applies');
  });

  test('a clean checkout planned for the work that changes before the work is applied is left alone', async () => {
    const repos = await repositories();
    await workInProgress(repos.laptop);
    const { workDir, description } = await captured(repos.laptop, repos.root);
    const plan = await planWork(repos.codespace, 'x');
    assert.equal(plan.inPlace, true);
    await writeFile(join(repos.codespace, 'notes.txt'), 'written while the session arrived\n');
    const error = await refusedAsItWas(repos.codespace, () => applyWork({ plan, workDir, description }));
    assert.match(error.message, /changed while the session arrived: nothing was applied/);
  });

  test('a patch that does not fit the base changes nothing (checked before it is applied)', async () => {
    const repos = await repositories();
    await workInProgress(repos.laptop);
    const { workDir, description } = await captured(repos.laptop, repos.root);
    // The unstaged patch no longer fits what the staged one leaves.
    const unstaged = await readFile(join(workDir, WORK_FILES.unstaged), 'utf8');
    await writeFile(join(workDir, WORK_FILES.unstaged), unstaged.replace('+line 4 unstaged', '+line 4 unstaged').replace(' line 3\n', ' line three\n'));
    const error = await refusedAsItWas(repos.codespace, () => land(repos.codespace, workDir, description, 'x'));
    assert.match(error.message, /the unstaged changes do not apply here .*nothing was changed/);
  });

  const hostile: Array<[string, (patch: string) => string, RegExp]> = [
    ['a path with ..', (patch) => patch.replaceAll('app.txt', '../escaped.txt'), /"\.\.\/escaped\.txt": an empty, "\." or "\.\." segment/],
    ['a path into .git', (patch) => patch.replaceAll('app.txt', '.git/hooks/post-checkout'), /a path inside \.git/],
    ['a .GIT in another case', (patch) => patch.replaceAll('app.txt', '.GIT/config'), /a path inside \.git/],
    ['a symbolic link', (patch) => patch.replace(/index ([0-9a-f]+)\.\.([0-9a-f]+) 100644/, 'old mode 100644\nnew mode 120000\nindex $1..$2'), /symbolic link/],
    ['a submodule', (patch) => patch.replace(/index ([0-9a-f]+)\.\.([0-9a-f]+) 100644/, 'index $1..$2 160000'), /submodule/],
    ['an absolute path', (patch) => patch.replaceAll('a/app.txt', 'a//etc/passwd'), /segment|absolute/],
  ];
  for (const [name, edit, message] of hostile) {
    test(`a hostile staged patch is refused with nothing changed: ${name}`, async () => {
      const repos = await repositories();
      await workInProgress(repos.laptop);
      const { workDir, description } = await captured(repos.laptop, repos.root);
      const patch = await readFile(join(workDir, WORK_FILES.staged), 'utf8');
      await writeFile(join(workDir, WORK_FILES.staged), edit(patch));
      const error = await refusedAsItWas(repos.codespace, () => land(repos.codespace, workDir, description, 'x'));
      assert.match(error.message, message);
      assert.equal(error.kind, 'protocol');
    });
  }

  test('hostile descriptions: an untracked file into .git, a bundle that ends elsewhere, are refused with nothing changed', async () => {
    const repos = await repositories();
    await workInProgress(repos.laptop);
    const { workDir, description } = await captured(repos.laptop, repos.root);
    const before = snapshot(repos.codespace);
    const cases: Array<[Partial<WorkDescription>, RegExp]> = [
      [{ untracked: [{ path: '.git/hooks/pre-commit', mode: 0o755 }] }, /untracked file "\.git\/hooks\/pre-commit": a path inside \.git/],
      [{ untracked: [{ path: 'a/../../out', mode: 0o644 }] }, /segment/],
      [{ head: git(repos.laptop, 'rev-parse', 'HEAD~1') }, /do not end at the HEAD it names/],
      [{ head: 'HEAD; rm -rf /' }, /not a commit id/],
    ];
    for (const [change, message] of cases) {
      const error = await failure(land(repos.codespace, workDir, { ...description, ...change }, 'x'));
      assert.match(error.message, message);
      assert.equal(snapshot(repos.codespace), before);
    }
  });

  test('an untracked file is written neither over an existing file nor through a symbolic link', async () => {
    const repos = await repositories();
    await workInProgress(repos.laptop);
    const { workDir, description } = await captured(repos.laptop, repos.root);
    const outside = await tempDir('outside');
    // The receiver's clean checkout has a committed symbolic link where the work puts a folder.
    await symlink(outside, join(repos.codespace, 'src'));
    git(repos.codespace, 'add', 'src');
    git(repos.codespace, 'commit', '--quiet', '-m', 'a link');
    git(repos.codespace, 'push', '--quiet', 'origin', 'HEAD:refs/heads/linked');
    // Based on the receiver's commit, so the link is in the tree the work lands on.
    const linked = { ...description, commits: 0, head: git(repos.codespace, 'rev-parse', 'HEAD'), staged: false, unstaged: false };
    const error = await refusedAsItWas(repos.codespace, () => land(repos.codespace, workDir, linked, 'x'));
    assert.match(error.message, /src\/new\/module\.ts would be written through a symbolic link/);
    assert.deepEqual(await readdir(outside), []);
  });

  test('filters and hooks configured in the receiving repository do not run', async () => {
    const repos = await repositories();
    await workInProgress(repos.laptop);
    const marker = join(repos.root, 'PWNED');
    await writeFile(join(repos.codespace, '.gitattributes'), '* filter=evil\n');
    git(repos.codespace, 'config', 'filter.evil.smudge', `touch ${marker}; cat`);
    git(repos.codespace, 'config', 'filter.evil.clean', `touch ${marker}; cat`);
    git(repos.codespace, 'config', 'filter.evil.required', 'true');
    await mkdir(join(repos.codespace, '.git', 'hooks'), { recursive: true });
    for (const hook of ['post-checkout', 'post-merge', 'pre-commit', 'reference-transaction']) {
      await writeFile(join(repos.codespace, '.git', 'hooks', hook), `#!/bin/sh\ntouch ${marker}\n`, { mode: 0o755 });
    }
    const { workDir, description } = await captured(repos.laptop, repos.root);
    const applied = await land(repos.codespace, workDir, description, 'x');
    assert.equal(applied.inPlace, false, 'its own .gitattributes is a change of its own');
    assert.ok(!(await readdir(repos.root)).includes('PWNED'), 'no filter or hook ran');
  });
});

describe('a checkout that is not where the session ran', () => {
  test('another repository, another branch, another commit: each is said, with what to do', async () => {
    const repos = await repositories();
    const laptopHead = git(repos.laptop, 'rev-parse', 'HEAD');
    const remote = git(repos.laptop, 'remote', 'get-url', 'origin');
    assert.deepEqual(await checkoutDrift({ remote, branch: 'main', head: laptopHead }, repos.codespace), [], 'the same: nothing to say');
    assert.deepEqual(await checkoutDrift(undefined, repos.codespace), [], 'nothing known of the source');

    // The laptop moves on by two commits (one pushed, one not).
    for (const [text, push] of [['two', true], ['three', false]] as const) {
      await writeFile(join(repos.laptop, 'app.txt'), `${text}\n`);
      git(repos.laptop, 'commit', '--quiet', '-am', text);
      if (push) git(repos.laptop, 'push', '--quiet', 'origin', 'main');
    }
    const ahead = git(repos.laptop, 'rev-parse', 'HEAD');
    assert.deepEqual(await checkoutDrift({ remote, branch: 'main', head: ahead }, repos.codespace), [
      `${repos.codespace} is at commit ${laptopHead.slice(0, 12)}, the session's checkout was at ${ahead.slice(0, 12)}, which is not here: "git fetch" may bring it (or carry the work with send --with-changes)`,
    ]);
    git(repos.codespace, 'fetch', '--quiet');
    const pushed = git(repos.laptop, 'rev-parse', 'HEAD~1');
    assert.match((await checkoutDrift({ remote, branch: 'main', head: pushed }, repos.codespace))[0]!, /: 1 commit\(s\) behind it$/);
    git(repos.codespace, 'checkout', '--quiet', '-b', 'feature');
    await writeFile(join(repos.codespace, 'app.txt'), 'codespace\n');
    git(repos.codespace, 'commit', '--quiet', '-am', 'codespace');
    const drift = await checkoutDrift({ remote, branch: 'main', head: laptopHead }, repos.codespace);
    assert.deepEqual(drift.length, 2);
    assert.match(drift[0]!, /is on branch feature, the session's checkout was on branch main$/);
    assert.match(drift[1]!, /: 1 commit\(s\) ahead of it$/);
    assert.match((await checkoutDrift({ remote, branch: 'feature', head: pushed }, repos.codespace))[0]!, /: the two have diverged$/);

    git(repos.codespace, 'remote', 'set-url', 'origin', 'https://github.com/octo/app.git');
    const other = await checkoutDrift({ remote: 'git@github.com:someone/else.git', branch: 'main', head: laptopHead }, repos.codespace);
    assert.deepEqual(other, [`${repos.codespace} is a checkout of github.com/octo/app, but the session ran in github.com/someone/else`]);
  });
});

describe('the work folder in a manifest', () => {
  const file = (path: string): ManifestFile => ({ path, size: 1, mode: 0o600, sha256: '0'.repeat(64) });
  const description: WorkDescription = { format: 1, head: 'a'.repeat(40), commits: 1, base: ['b'.repeat(40)], staged: true, unstaged: false, untracked: [{ path: 'src/new.ts', mode: 0o644 }], status: '' };
  const exact = [file('.w/commits.bundle'), file('.w/staged.patch'), file('.w/untracked/src/new.ts')];

  test('holds exactly the pieces its description calls for', () => {
    assert.equal(whyWorkFilesDiffer(description, exact, [], '.w'), undefined);
    assert.match(whyWorkFilesDiffer(description, exact.slice(1), [], '.w')!, /missing commits\.bundle/);
    assert.match(whyWorkFilesDiffer(description, [...exact, file('.w/hooks/post-checkout')], [], '.w')!, /holds "hooks\/post-checkout", which its description does not call for/);
    assert.match(whyWorkFilesDiffer(undefined, exact, [], '.w')!, /without describing any work/);
    assert.match(whyWorkFilesDiffer(undefined, [], ['.w'], '.w')!, /without describing any work/);
    assert.equal(whyWorkFilesDiffer(undefined, [file('events.jsonl')], [], '.w'), undefined);
  });

  test('a description from the peer is checked as hostile input', () => {
    const invalid = (reason: string): BeamError => new BeamError('protocol', reason);
    assert.deepEqual(decodeWorkDescription(JSON.parse(JSON.stringify(description)), invalid), description);
    for (const [change, message] of [
      [{ head: 'HEAD' }, /names no commit/],
      [{ commits: -1 }, /commit count/],
      [{ untracked: [{ path: '../x', mode: 0o644 }] }, /segment/],
      [{ untracked: [{ path: 'x', mode: 0o4755 }] }, /bad mode/],
      [{ staged: 'yes' }, /bad flags/],
      [{ base: ['HEAD~1'] }, /bad base/],
    ] as const) {
      assert.throws(() => decodeWorkDescription({ ...description, ...change }, invalid), message);
    }
  });
});

describe('landing work never costs the receiver a file (the review of issue 15)', () => {
  test('an untracked file the receiver has (ignored), or that its tree has, or that needs a folder where a file is: refused, everything as it was', async () => {
    const repos = await repositories();
    await workInProgress(repos.laptop);
    await writeFile(join(repos.codespace, '.git', 'info', 'exclude'), 'build.log\n');
    await writeFile(join(repos.codespace, 'build.log'), 'the receiver\'s own log\n');
    const { workDir, description } = await captured(repos.laptop, repos.root);
    await mkdir(join(workDir, WORK_FILES.untracked, 'app.txt'), { recursive: true });
    await writeFile(join(workDir, WORK_FILES.untracked, 'build.log'), 'the sender\'s log\n');
    await writeFile(join(workDir, WORK_FILES.untracked, 'logo.bin'), 'not the logo\n');
    await writeFile(join(workDir, WORK_FILES.untracked, 'app.txt', 'x'), 'under a file\n');
    const before = snapshot(repos.codespace);
    for (const [path, message] of [
      ['build.log', /new file build\.log is there already \(an ignored file\?\): receive again with --worktree/],
      ['logo.bin', /new file logo\.bin is there already/],
      ['app.txt/x', /new file app\.txt\/x cannot be made here \((ENOTDIR|EEXIST)\)/],
    ] as const) {
      const plan = await planWork(repos.codespace, 'x');
      assert.equal(plan.inPlace, true);
      const error = await failure(applyWork({ plan, workDir, description: { ...description, untracked: [...description.untracked, { path, mode: 0o644 }] } }));
      assert.match(error.message, message);
      assert.equal(snapshot(repos.codespace), before, `${path}: branch, index, files and the ignored log as they were`);
    }
    assert.equal(await readFile(join(repos.codespace, 'build.log'), 'utf8'), 'the receiver\'s own log\n');
  });

  test('a clean checkout whose ignored file the work\'s commits would overwrite is left alone: the work asks for --worktree', async () => {
    const repos = await repositories();
    await writeFile(join(repos.laptop, 'local.cfg'), 'from the laptop\n');
    git(repos.laptop, 'add', 'local.cfg');
    git(repos.laptop, 'commit', '--quiet', '-m', 'a config file, committed');
    await writeFile(join(repos.codespace, '.git', 'info', 'exclude'), 'local.cfg\n');
    await writeFile(join(repos.codespace, 'local.cfg'), 'the receiver\'s own, ignored\n');
    const { workDir, description } = await captured(repos.laptop, repos.root);
    const error = await refusedAsItWas(repos.codespace, () => land(repos.codespace, workDir, description, 'x'));
    assert.match(error.message, /cannot land in .* without touching files of its own .*: receive again with --worktree/);
    const applied = await applyWork({ plan: await planWork(repos.codespace, 'x', join(repos.root, 'elsewhere')), workDir, description });
    assert.equal(applied.inPlace, false, 'in a worktree it lands');
    assert.equal(await readFile(join(repos.codespace, 'local.cfg'), 'utf8'), 'the receiver\'s own, ignored\n');
  });

  test('undo after a landing in place returns checkout, branch, index and files exactly (a session install that fails afterwards)', async () => {
    const repos = await repositories();
    await workInProgress(repos.laptop);
    await writeFile(join(repos.codespace, '.git', 'info', 'exclude'), 'cache/\n');
    await mkdir(join(repos.codespace, 'cache'));
    await writeFile(join(repos.codespace, 'cache', 'kept.bin'), 'ignored, the receiver\'s\n');
    const { workDir, description } = await captured(repos.laptop, repos.root);
    const before = snapshot(repos.codespace);
    const applied = await land(repos.codespace, workDir, description, 'x');
    assert.equal(applied.inPlace, true);
    assert.notEqual(snapshot(repos.codespace), before);
    await applied.undo();
    assert.equal(snapshot(repos.codespace), before);
  });

  test('undo of a worktree removes only its own record and the folders it made, not another worktree\'s', async () => {
    const repos = await repositories();
    await workInProgress(repos.laptop);
    // A worktree on a disk that is not mounted now: its record stays, its folder is gone.
    git(repos.codespace, 'worktree', 'add', '--quiet', join(repos.root, 'usb', 'wt'), '-b', 'usb');
    await rm(join(repos.root, 'usb'), { recursive: true, force: true });
    await writeFile(join(repos.codespace, 'notes.txt'), 'its own change\n');
    const { workDir, description } = await captured(repos.laptop, repos.root);
    const before = snapshot(repos.codespace);
    const plan = await planWork(repos.codespace, 'x', join(repos.root, 'deep', 'er', 'wt'));
    assert.equal(plan.createsFolder, join(repos.root, 'deep'));
    const applied = await applyWork({ plan, workDir, description });
    await applied.undo();
    assert.equal(snapshot(repos.codespace), before, 'the usb worktree\'s record is still there');
    assert.ok(!(await readdir(repos.root)).includes('deep'), 'the folders made for the worktree are gone');
  });

  test('branch names: a session named like a lock file still gets one, and a branch called "beam" is said before anything moves', async () => {
    const repos = await repositories();
    assert.equal((await planWork(repos.codespace, 'notes.lock')).branch, 'beam/notes');
    assert.equal((await planWork(repos.codespace, '..')).branch, 'beam/session');
    git(repos.codespace, 'branch', 'beam');
    await assert.rejects(planWork(repos.codespace, 'x'), /has a branch called "beam", so the work's branch beam\/\.\.\. cannot be made/);
  });
});

describe('what git makes of hostile work, not what a regex reads', () => {
  const variants: Array<[string, (patch: string) => string, RegExp]> = [
    ['a new symbolic link spelt 0120000', () => 'diff --git a/lnk b/lnk\nnew file mode 0120000\n--- /dev/null\n+++ b/lnk\n@@ -0,0 +1 @@\n+/etc\n\\ No newline at end of file\n', /make "lnk" a symbolic link/],
    ['a new symbolic link spelt with two spaces', () => 'diff --git a/lnk b/lnk\nnew file mode  120000\n--- /dev/null\n+++ b/lnk\n@@ -0,0 +1 @@\n+/etc\n\\ No newline at end of file\n', /make "lnk" a symbolic link/],
    ['a .gitmodules in a traditional patch', () => '--- /dev/null\n+++ y/.gitmodules\n@@ -0,0 +1,2 @@\n+[submodule "x"]\n+\turl = ext::sh -c touch% /tmp/pwned\n', /\.gitmodules|submodule definition/],
    ['a .gitmodules under quoted names', () => 'diff --git "a/.gitmodules" "b/.gitmodules"\nnew file mode 100644\n--- /dev/null\n+++ "b/.gitmodules"\n@@ -0,0 +1 @@\n+[submodule "x"]\n', /\.gitmodules|submodule definition|quoted/],
  ];
  for (const [name, edit, message] of variants) {
    test(`refused with nothing changed: ${name}`, async () => {
      const repos = await repositories();
      await workInProgress(repos.laptop);
      const { workDir, description } = await captured(repos.laptop, repos.root);
      await writeFile(join(workDir, WORK_FILES.staged), edit(await readFile(join(workDir, WORK_FILES.staged), 'latin1')), 'latin1');
      const error = await refusedAsItWas(repos.codespace, () => land(repos.codespace, workDir, description, 'x'));
      assert.match(error.message, message);
    });
  }

  test('unpushed commits are checked as trees: a link out of the tree is refused, a link within it lands', async () => {
    const repos = await repositories();
    await symlink('/etc', join(repos.laptop, 'etc-link'));
    git(repos.laptop, 'add', 'etc-link');
    git(repos.laptop, 'commit', '--quiet', '-m', 'a link out');
    const out = await captured(repos.laptop, repos.root);
    const error = await refusedAsItWas(repos.codespace, () => land(repos.codespace, out.workDir, out.description, 'x'));
    assert.match(error.message, /its commits make "etc-link" a symbolic link to "\/etc", which may lead outside the tree/);
    assert.equal(error.kind, 'protocol');

    git(repos.laptop, 'rm', '--quiet', 'etc-link');
    await symlink('app.txt', join(repos.laptop, 'readme-link'));
    git(repos.laptop, 'add', 'readme-link');
    git(repos.laptop, 'commit', '--quiet', '-m', 'a link within');
    const within = await captured(repos.laptop, repos.root);
    const applied = await land(repos.codespace, within.workDir, within.description, 'y');
    assert.equal(await readlink(join(applied.root, 'readme-link')), 'app.txt');
  });
});

describe('the sender\'s side of carried work', () => {
  test('a person\'s diff settings do not change the patches, and a staged change undone in the working tree still travels', async () => {
    const repos = await repositories();
    git(repos.laptop, 'config', 'diff.context', '0');
    git(repos.laptop, 'config', 'diff.noprefix', 'true');
    await writeFile(join(repos.laptop, 'app.txt'), 'line 1\nline 2 staged\nline 3\n');
    git(repos.laptop, 'add', 'app.txt');
    await writeFile(join(repos.laptop, 'app.txt'), 'line 1\nline 2\nline 3\n'); // back as HEAD has it: "MM"
    const capture = await captureWork(repos.laptop, join(repos.root, 'carried'));
    assert.deepEqual({ staged: capture.description.staged, unstaged: capture.description.unstaged, changed: capture.summary.changedFiles }, { staged: true, unstaged: true, changed: 1 });
    const applied = await land(repos.codespace, join(repos.root, 'carried'), capture.description, 'x');
    assert.equal(applied.status, capture.description.status);
    assert.equal(git(repos.codespace, 'rev-parse', ':app.txt'), git(repos.laptop, 'rev-parse', ':app.txt'), 'the same staged content');
    assert.equal(await readFile(join(repos.codespace, 'app.txt'), 'utf8'), 'line 1\nline 2\nline 3\n');
  });

  test('a staged symbolic link is said before anything travels; a checkout without origin cannot carry work', async () => {
    const repos = await repositories();
    await symlink('app.txt', join(repos.laptop, 'lnk'));
    git(repos.laptop, 'add', 'lnk');
    await assert.rejects(captureWork(repos.laptop, join(repos.root, 'a')), /lnk is a symbolic link change, which copilot-beam does not carry uncommitted: commit it/);
    git(repos.laptop, 'rm', '--quiet', '--cached', 'lnk');
    git(repos.laptop, 'remote', 'rename', 'origin', 'upstream');
    await assert.rejects(captureWork(repos.laptop, join(repos.root, 'b')), /has no "origin" remote/);
  });
});

describe('the second review of carried work', () => {
  test('a link chain that climbs one ".." at a time, and a link through another link, are refused', async () => {
    const repos = await repositories();
    await mkdir(join(repos.laptop, 'b'));
    await symlink('..', join(repos.laptop, 'b', 'up'));
    await symlink('b/up/..', join(repos.laptop, 'link'));
    git(repos.laptop, 'add', 'b/up', 'link');
    git(repos.laptop, 'commit', '--quiet', '-m', 'a chain');
    const chain = await captured(repos.laptop, repos.root);
    const error = await refusedAsItWas(repos.codespace, () => land(repos.codespace, chain.workDir, chain.description, 'x'));
    assert.match(error.message, /symbolic link to "\.\.", which may lead outside the tree/);
  });

  test('work may only start on the receiver\'s own branches: not on objects an earlier, refused bundle left behind', async () => {
    const repos = await repositories();
    await symlink('/etc/passwd', join(repos.laptop, 'passwd'));
    git(repos.laptop, 'add', 'passwd');
    git(repos.laptop, 'commit', '--quiet', '-m', 'a link out');
    const hostile = await captured(repos.laptop, repos.root);
    await failure(land(repos.codespace, hostile.workDir, hostile.description, 'x')); // its objects stay, unreachable
    const planted = hostile.description.head;
    const riding = { ...hostile.description, commits: 0, base: [planted], staged: false, unstaged: false, untracked: [] };
    const error = await refusedAsItWas(repos.codespace, () => land(repos.codespace, hostile.workDir, riding, 'y'));
    assert.match(error.message, /starts at commit [0-9a-f]{12}, which is not on any branch/);
  });

  test('a link staged and deleted again in the working tree is refused, not left in the index', async () => {
    const repos = await repositories();
    await workInProgress(repos.laptop);
    const { workDir, description } = await captured(repos.laptop, repos.root);
    const link = 'diff --git a/l b/l\nnew file mode 120000\n--- /dev/null\n+++ b/l\n@@ -0,0 +1 @@\n+/etc/passwd\n\\ No newline at end of file\n';
    const unlink = 'diff --git a/l b/l\ndeleted file mode 120000\n--- a/l\n+++ /dev/null\n@@ -1 +0,0 @@\n-/etc/passwd\n\\ No newline at end of file\n';
    await writeFile(join(workDir, WORK_FILES.staged), link);
    await writeFile(join(workDir, WORK_FILES.unstaged), unlink);
    const error = await refusedAsItWas(repos.codespace, () => land(repos.codespace, workDir, { ...description, staged: true, unstaged: true }, 'x'));
    assert.match(error.message, /its staged changes make "l" a symbolic link|symbolic link/);
  });

  test('a commit git fsck would reject is refused as it comes in', async () => {
    const repos = await repositories();
    const tree = git(repos.laptop, 'rev-parse', 'HEAD^{tree}');
    const parent = git(repos.laptop, 'rev-parse', 'HEAD');
    const bad = `tree ${tree}\nparent ${parent}\nauthor A <a@example.com 0 +0000\ncommitter A <a@example.com> 0 +0000\n\nbad author line\n`;
    const sha = execFileSync('git', ['-C', repos.laptop, 'hash-object', '-t', 'commit', '--literally', '-w', '--stdin'], { input: bad, encoding: 'utf8' }).trim();
    git(repos.laptop, 'update-ref', 'refs/heads/main', sha);
    const { workDir, description } = await captured(repos.laptop, repos.root);
    const error = await refusedAsItWas(repos.codespace, () => land(repos.codespace, workDir, description, 'x'));
    assert.match(error.message, /index-pack failed/);
  });

  test('undo puts HEAD back on its branch even when a tag has the same name', async () => {
    const repos = await repositories();
    await workInProgress(repos.laptop);
    git(repos.codespace, 'tag', 'main');
    const { workDir, description } = await captured(repos.laptop, repos.root);
    const before = snapshot(repos.codespace);
    const applied = await land(repos.codespace, workDir, description, 'x');
    await applied.undo();
    assert.equal(git(repos.codespace, 'symbolic-ref', 'HEAD'), 'refs/heads/main');
    assert.equal(snapshot(repos.codespace), before);
  });
});
