import assert from 'node:assert/strict';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { createSampleSession, type SessionKind } from '../scripts/sample-session.js';
import { AdaptiveLevel } from '../src/bundle/adaptive-level.js';
import { MIN_LEVEL, ZSTD_DEFAULT_RUNG } from '../src/bundle/codec.js';
import { FLOOR_SAMPLE_BYTES, LevelFloor, type Floor } from '../src/bundle/level-floor.js';

const BLOCK = 256 * 1024;
const DECISION_BYTES = 8 * 1024 * 1024;

describe('the level floor', () => {
  let root: string;
  const history: Partial<Record<SessionKind, Buffer>> = {};

  before(async () => {
    root = await mkdtemp(join(tmpdir(), 'copilot-beam-floor-'));
    for (const kind of ['source', 'compressible'] as const) {
      const { dir } = await createSampleSession({ copilotHome: join(root, kind), kind, eventsBytes: 2 * 1024 * 1024, binaryBytes: 1024, seed: 'level-floor' });
      history[kind] = await readFile(join(dir, 'events.jsonl'));
    }
  });
  after(() => rm(root, { recursive: true, force: true }));

  /** A whole block of that kind's history, from this offset. */
  const blockOf = (kind: SessionKind, offset: number): Buffer => history[kind]!.subarray(offset, offset + BLOCK);

  test("is zstd's default level for source-like history, where it shrinks the data noticeably more than the fastest", () => {
    for (const offset of [0, BLOCK, 5 * BLOCK]) {
      const floor = new LevelFloor();
      floor.observe(blockOf('source', offset));
      assert.equal(floor.level, ZSTD_DEFAULT_RUNG, `source-like history from ${offset}`);
    }
  });

  test('stays at the fastest level for highly repetitive history, where the fastest finds more of the repeats', () => {
    for (const offset of [0, BLOCK, 5 * BLOCK]) {
      const floor = new LevelFloor();
      floor.observe(blockOf('compressible', offset));
      assert.equal(floor.level, MIN_LEVEL, `repetitive history from ${offset}`);
    }
  });

  test('judges only a block that holds a whole sample, and once until asked again', () => {
    const floor = new LevelFloor();
    floor.observe(blockOf('source', 0).subarray(0, FLOOR_SAMPLE_BYTES - 1));
    assert.equal(floor.level, MIN_LEVEL, 'the end of a small file is no sample');
    floor.observe(blockOf('source', 0));
    assert.equal(floor.level, ZSTD_DEFAULT_RUNG);
    floor.observe(blockOf('compressible', 0));
    floor.observe(blockOf('compressible', BLOCK));
    assert.equal(floor.level, ZSTD_DEFAULT_RUNG, 'no judgement was due');
  });

  test('rises at once, and falls only after two judgements in a row that want it down', () => {
    const floor = new LevelFloor();
    const judge = (kind: SessionKind, offset: number): number => {
      floor.judgeAgain();
      floor.observe(blockOf(kind, offset));
      return floor.level;
    };
    assert.equal(judge('source', 0), ZSTD_DEFAULT_RUNG);
    assert.equal(judge('compressible', 0), ZSTD_DEFAULT_RUNG, 'one sample of other text');
    assert.equal(judge('source', BLOCK), ZSTD_DEFAULT_RUNG);
    assert.equal(judge('compressible', BLOCK), ZSTD_DEFAULT_RUNG);
    assert.equal(judge('compressible', 2 * BLOCK), MIN_LEVEL, 'the text changed, and stayed changed');
    assert.equal(judge('source', 2 * BLOCK), ZSTD_DEFAULT_RUNG);
  });
});

describe('the adaptive level over a floor', () => {
  /** A floor that says what the test sets, and counts the blocks it judged. */
  const settableFloor = (): Floor & { set(level: number): void; judged: number } => {
    let due = true;
    let level = MIN_LEVEL;
    let next = MIN_LEVEL;
    return {
      judged: 0,
      highest: 4,
      get level() {
        return level;
      },
      set(wanted: number) {
        next = wanted;
      },
      observe() {
        if (!due) return;
        due = false;
        level = next;
        this.judged++;
      },
      judgeAgain() {
        due = true;
      },
    };
  };
  const block = new Uint8Array(BLOCK);
  /** One decision's worth of blocks: each observed, compressed at the level, then recorded. */
  const decision = (level: AdaptiveLevel, receiverIdle: number): void => {
    for (let sent = 0; sent < DECISION_BYTES; sent += BLOCK) {
      level.observe(block);
      level.record(BLOCK, receiverIdle);
    }
  };

  test('a floor above the level lifts it at once, and a busy receiver does not take it below', () => {
    const floor = settableFloor();
    floor.set(4);
    const level = new AdaptiveLevel(1, () => 0.5, floor);
    level.observe(block);
    assert.equal(level.level, 4, 'lifted by the first judgement, before any decision');
    for (let i = 0; i < 4; i++) decision(level, 0.01);
    assert.equal(level.level, 4, 'a busy receiver lowers the level only to its floor');
  });

  test('a floor that rises lifts a level between the two floors', () => {
    const floor = settableFloor();
    const level = new AdaptiveLevel(3, () => 0.2, floor);
    decision(level, 0.2);
    assert.equal(level.level, 3);
    floor.set(4);
    decision(level, 0.2);
    assert.equal(level.level, 4, 'judged again after the decision, and lifted');
  });

  test('still climbs above the floor on a slow link, and then takes no samples', () => {
    const floor = settableFloor();
    floor.set(4);
    const level = new AdaptiveLevel(1, () => 0.6, floor);
    for (let i = 0; i < 4; i++) decision(level, 0.6);
    assert.equal(level.level, 8, 'lifted to 4 at once, then a step per decision');
    assert.equal(floor.judged, 1, 'judged at the start; above the floor, never again');
  });

  test('a floor that falls lets the level fall with it, a step per two busy judgements', () => {
    const floor = settableFloor();
    floor.set(4);
    const level = new AdaptiveLevel(1, () => 0.05, floor);
    decision(level, 0.5);
    assert.equal(level.level, 4);
    floor.set(MIN_LEVEL);
    for (let i = 0; i < 4; i++) decision(level, 0.5);
    assert.equal(level.level, 2);
  });

  test('without a floor, the level starts and falls to the fastest as before', () => {
    const level = new AdaptiveLevel(3, () => 0.05);
    level.observe(block);
    assert.equal(level.level, 3);
    for (let i = 0; i < 4; i++) decision(level, 0.5);
    assert.equal(level.level, MIN_LEVEL);
  });
});
