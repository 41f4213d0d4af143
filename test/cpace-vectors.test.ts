import assert from 'node:assert/strict';
import { test } from 'node:test';
import {
  calculateGenerator,
  concatBytes,
  deriveSessionKeys,
  finishCpace,
  generatorString,
  loadSodium,
  lvCat,
  startCpace,
  startCpaceWithScalar,
  utf8,
  wipeSessionKeys,
  type CpaceInputs,
  type CpaceRole,
} from '../src/crypto/index.js';

/*
 * Known answers for src/crypto/cpace.ts: CPace over ristretto255 with SHA-512
 * (CPACE-RISTR255-SHA512) against the draft's own test vectors.
 *
 * Source: draft-irtf-cfrg-cpace-21 (23 April 2026), Appendix B.3 "Test vector for CPace using
 * group ristretto255 and hash SHA-512": B.3.1 generator, B.3.2/B.3.3 messages from A and B,
 * B.3.4 K, B.3.5 ISK initiator/responder, B.3.6 ISK parallel (symmetric) execution, B.3.10
 * scalar_mult with valid inputs, B.3.11 invalid inputs for scalar_mult_vfy. Read from the text
 * rendering in github.com/cfrg/draft-irtf-cfrg-cpace (gh-pages, draft-irtf-cfrg-cpace-21/
 * draft-irtf-cfrg-cpace.txt); the hex is copied as published, only the line breaks removed.
 *
 * Second set: draft-irtf-cfrg-cpace-13 (15 October 2024), Appendix B.3, same repository
 * (draft-irtf-cfrg-cpace-13/draft-irtf-cfrg-cpace.txt). Same scalars and sid, but a different
 * channel identifier (b'oc\x0bB_responder\x0bA_initiator'), so every derived value differs: the
 * construction has not changed between the two revisions, only the example inputs.
 *
 * The draft's party A is our 'initiator' (in pairing.ts the receiver), B our 'responder'; ADa
 * and ADb are each side's CpaceInputs.associatedData. Our transcript is the draft's
 * transcript_ir, so finishCpace gives ISK_IR, never ISK_SY (transcript_oc, for a symmetric
 * setting where either side may speak first): the last test shows that is the only difference.
 */

const sodium = await loadSodium();

function hex(text: string): Uint8Array {
  const digits = text.replace(/\s+/g, '');
  if (!/^(?:[0-9a-f]{2})*$/i.test(digits)) throw new Error(`not hex: ${text}`);
  return Uint8Array.from(Buffer.from(digits, 'hex'));
}

const toHex = (bytes: Uint8Array): string => Buffer.from(bytes).toString('hex');

interface Vectors {
  readonly name: string;
  readonly PRS: Uint8Array;
  readonly CI: Uint8Array;
  readonly sid: Uint8Array;
  readonly g: string;
  readonly ya: string;
  readonly ADa: Uint8Array;
  readonly Ya: string;
  readonly yb: string;
  readonly ADb: Uint8Array;
  readonly Yb: string;
  readonly K: string;
  readonly ISK_IR: string;
  readonly ISK_SY: string;
}

/** draft-irtf-cfrg-cpace-21, Appendix B.3. */
const DRAFT_21: Vectors = {
  name: 'draft-irtf-cfrg-cpace-21 B.3',
  PRS: utf8('Password'),
  CI: hex('0b415f696e69746961746f720b425f726573706f6e646572'),
  sid: hex('7e4b4791d6a8ef019b936c79fb7f2c57'),
  g: '222b6b195fe84b1652badb6f6a3ae3d24341e7306967f0b8115b40d5698c7e56',
  ya: 'da3d23700a9e5699258aef94dc060dfda5ebb61f02a5ea77fad53f4ff0976d08',
  ADa: utf8('ADa'),
  Ya: 'd6bac480f2c386c394efc7c47adb9925dcd2630b64f240c50f8d0eec482b9157',
  yb: 'd2316b454718c35362d83d69df6320f38578ed5984651435e2949762d900b80d',
  ADb: utf8('ADb'),
  Yb: '3ea7e0b19560d7c0b0f5734f63b955286dfa8232b5ebe63324e2d9e7433f7258',
  K: '80b69a8a76457ab6a4d7f887a4bf6b55a2f80ac19c333f917a05fc9887c8b40f',
  ISK_IR:
    'b69effbf61b51d56401c0f65601abe428de8206feaaf0e32198896dc' +
    'ae7b35cd2b38950a39dfd5d4a79164614c2984f7daa460b588c1e80c' +
    '3fa2068af7900447',
  ISK_SY:
    '544199d71f62f8d9a1fee55727e24fe4a45844593c2b6013c4fa3969' +
    'd0e5debb2244675c0b43397cbb68d342b01fc0f98fc961469a25134d' +
    'e9f0f813c1a57476',
};

/** draft-irtf-cfrg-cpace-13, Appendix B.3. */
const DRAFT_13: Vectors = {
  name: 'draft-irtf-cfrg-cpace-13 B.3',
  PRS: utf8('Password'),
  CI: hex('6f630b425f726573706f6e6465720b415f696e69746961746f72'),
  sid: hex('7e4b4791d6a8ef019b936c79fb7f2c57'),
  g: 'a6fc82c3b8968fbb2e06fee81ca858586dea50d248f0c7ca6a18b0902a30b36b',
  ya: 'da3d23700a9e5699258aef94dc060dfda5ebb61f02a5ea77fad53f4ff0976d08',
  ADa: utf8('ADa'),
  Ya: 'd40fb265a7abeaee7939d91a585fe59f7053f982c296ec413c624c669308f87a',
  yb: 'd2316b454718c35362d83d69df6320f38578ed5984651435e2949762d900b80d',
  ADb: utf8('ADb'),
  Yb: '08bcf6e9777a9c313a3db6daa510f2d398403319c2341bd506a92e672eb7e307',
  K: 'e22b1ef7788f661478f3cddd4c600774fc0f41e6b711569190ff88fa0e607e09',
  ISK_IR:
    '4c5469a16b2364c4b944ebc1a79e51d1674ad47db26e8718154f59fa' +
    'ebfaa52d8346f30aa58377117eb20d527f2cbc5c76381f7fd372e89d' +
    'f8239f87f2e02ed1',
  ISK_SY:
    '980dcc5a1c52ceea031e75f38ed266586616488c5c5780285fcbcf79' +
    '087c7bcdbd993502eee606b718ba31e840a000a7b7befe15ea427c5c' +
    'fe88344fa1237f35',
};

const ALL = [DRAFT_21, DRAFT_13];

function inputsFor(v: Vectors, role: CpaceRole): CpaceInputs {
  return { password: v.PRS, channelId: v.CI, sessionId: v.sid, associatedData: role === 'initiator' ? v.ADa : v.ADb };
}

/** A state with the draft's fixed scalar (a fresh buffer each time: finishCpace zeroes it). */
function fixedStart(v: Vectors, role: CpaceRole) {
  return startCpaceWithScalar(sodium, role, inputsFor(v, role), hex(role === 'initiator' ? v.ya : v.yb));
}

test('CPace vectors (draft-irtf-cfrg-cpace-21 B.3.1): generator string, its SHA-512 and the generator g', () => {
  const v = DRAFT_21;
  const expectedString = hex(`
    11435061636552697374726574746f3235350850617373776f726464
    00000000000000000000000000000000000000000000000000000000
    00000000000000000000000000000000000000000000000000000000
    00000000000000000000000000000000000000000000000000000000
    00000000000000000000000000000000180b415f696e69746961746f
    720b425f726573706f6e646572107e4b4791d6a8ef019b936c79fb7f
    2c57`);
  const generatorInput = generatorString(v.PRS, v.CI, v.sid);
  assert.equal(generatorInput.length, 170);
  assert.equal(toHex(generatorInput), toHex(expectedString));
  assert.equal(
    toHex(sodium.crypto_hash_sha512(generatorInput)),
    'da6d3ddc8802fca9058755ffd3ebde08a9c2c74945901a258482a288' +
      'b6663af06bf645c93cd1c51512307199c80e84908916d983b34af772' +
      '05f90851a657ee27',
  );
});

for (const v of ALL) {
  test(`CPace vectors (${v.name}): g from PRS, CI and sid; Ya and Yb from the fixed scalars`, () => {
    assert.equal(toHex(calculateGenerator(sodium, inputsFor(v, 'initiator'))), v.g);
    assert.equal(toHex(fixedStart(v, 'initiator').share), v.Ya);
    assert.equal(toHex(fixedStart(v, 'responder').share), v.Yb);
  });

  test(`CPace vectors (${v.name}): K = ya*Yb = yb*Ya, and ISK_IR on both sides`, () => {
    // K never leaves finishCpace, so it is checked here with the same libsodium call finishCpace
    // makes, and through the ISK below, which hashes it (B.3.5: lv_cat(DSI_ISK, sid, K) || ...).
    assert.equal(toHex(sodium.crypto_scalarmult_ristretto255(hex(v.ya), hex(v.Yb))), v.K);
    assert.equal(toHex(sodium.crypto_scalarmult_ristretto255(hex(v.yb), hex(v.Ya))), v.K);

    const a = finishCpace(sodium, fixedStart(v, 'initiator'), hex(v.Yb), v.ADb);
    const b = finishCpace(sodium, fixedStart(v, 'responder'), hex(v.Ya), v.ADa);
    assert.equal(toHex(a), v.ISK_IR);
    assert.equal(toHex(b), v.ISK_IR);
  });

  test(`CPace vectors (${v.name}): our ISK is ISK_IR, not the symmetric ISK_SY`, () => {
    const ours = finishCpace(sodium, fixedStart(v, 'initiator'), hex(v.Yb), v.ADb);
    assert.notEqual(toHex(ours), v.ISK_SY);
    // The draft's transcript_oc (A.3.6, A.3.2): b"oc", then the lexicographically larger of the
    // two lv_cat(Y, AD) first. With it, and nothing else changed, the same hash gives ISK_SY.
    const partA = lvCat(hex(v.Ya), v.ADa);
    const partB = lvCat(hex(v.Yb), v.ADb);
    const aFirst = Buffer.compare(Buffer.from(partA), Buffer.from(partB)) > 0;
    const transcriptOc = concatBytes([utf8('oc'), ...(aFirst ? [partA, partB] : [partB, partA])]);
    const prefix = lvCat(utf8('CPaceRistretto255_ISK'), v.sid, hex(v.K));
    assert.equal(toHex(sodium.crypto_hash_sha512(concatBytes([prefix, transcriptOc]))), v.ISK_SY);
    assert.equal(toHex(sodium.crypto_hash_sha512(concatBytes([prefix, partA, partB]))), v.ISK_IR);
  });
}

test('CPace vectors (draft-irtf-cfrg-cpace-21 B.3.5): DSI_ISK and transcript_ir bytes', () => {
  const v = DRAFT_21;
  assert.equal(toHex(utf8('CPaceRistretto255_ISK')), '435061636552697374726574746f3235355f49534b');
  assert.equal(
    toHex(concatBytes([lvCat(hex(v.Ya), v.ADa), lvCat(hex(v.Yb), v.ADb)])),
    '20d6bac480f2c386c394efc7c47adb9925dcd2630b64f240c50f8d0e' +
      'ec482b915703414461203ea7e0b19560d7c0b0f5734f63b955286dfa' +
      '8232b5ebe63324e2d9e7433f725803414462',
  );
});

test('CPace vectors (draft-irtf-cfrg-cpace-21 B.3.10): scalar_mult with valid inputs', () => {
  const s = hex('7cd0e075fa7955ba52c02759a6c90dbbfc10e6d40aea8d283e407d88cf538a05');
  const X = hex('2c3c6b8c4f3800e7aef6864025b4ed79bd599117e427c41bd47d93d654b4a51c');
  assert.ok(sodium.crypto_core_ristretto255_is_valid_point(X));
  assert.equal(toHex(sodium.crypto_scalarmult_ristretto255(s, X)), '7c13645fe790a468f62c39beb7388e541d8405d1ade69d1778c5fe3e7f6b600e');
});

test('CPace vectors (draft-irtf-cfrg-cpace-21 B.3.11): an invalid encoding and the identity are refused', () => {
  const v = DRAFT_21;
  // Y_i1 does not decode: refused before our scalar is used.
  const Yi1 = hex('2b3c6b8c4f3800e7aef6864025b4ed79bd599117e427c41bd47d93d654b4a51c');
  assert.equal(sodium.crypto_core_ristretto255_is_valid_point(Yi1), false);
  assert.throws(() => finishCpace(sodium, fixedStart(v, 'initiator'), Yi1, v.ADb), /invalid key exchange message/);
  // Y_i2 is G.I, the identity: it decodes (libsodium's is_valid_point accepts it), but then K
  // would be G.I, which libsodium's scalar multiplication refuses and we report.
  const Yi2 = new Uint8Array(32);
  assert.equal(toHex(Yi2), '0000000000000000000000000000000000000000000000000000000000000000');
  assert.throws(() => finishCpace(sodium, fixedStart(v, 'initiator'), Yi2, v.ADb), /degenerate key exchange message/);
  assert.throws(() => finishCpace(sodium, fixedStart(v, 'responder'), Yi2, v.ADa), /degenerate key exchange message/);
});

test('wiping: finishCpace zeroes the scalar, whether it succeeds or refuses the share', () => {
  const v = DRAFT_21;
  const state = fixedStart(v, 'initiator');
  assert.equal(sodium.is_zero(state.scalar), false);
  finishCpace(sodium, state, hex(v.Yb), v.ADb);
  assert.equal(state.scalar.length, 32);
  assert.ok(sodium.is_zero(state.scalar));
  assert.throws(() => finishCpace(sodium, state, hex(v.Yb), v.ADb), /already finished/);

  const refused = fixedStart(v, 'initiator');
  assert.throws(() => finishCpace(sodium, refused, new Uint8Array(32), v.ADb), /degenerate/);
  assert.ok(sodium.is_zero(refused.scalar));
  const invalid = fixedStart(v, 'initiator');
  assert.throws(() => finishCpace(sodium, invalid, new Uint8Array(32).fill(0xff), v.ADb), /invalid/);
  assert.ok(sodium.is_zero(invalid.scalar));

  // The random entry point too; startCpaceWithScalar keeps (and so wipes) the caller's buffer.
  const random = startCpace(sodium, 'responder', inputsFor(v, 'responder'));
  finishCpace(sodium, random, hex(v.Ya), v.ADa);
  assert.ok(sodium.is_zero(random.scalar));
  const scalar = hex(v.ya);
  finishCpace(sodium, startCpaceWithScalar(sodium, 'initiator', inputsFor(v, 'initiator'), scalar), hex(v.Yb), v.ADb);
  assert.ok(sodium.is_zero(scalar));
  assert.throws(() => startCpaceWithScalar(sodium, 'initiator', inputsFor(v, 'initiator'), new Uint8Array(31)), /wrong size/);
});

test('wiping: deriveSessionKeys zeroes the ISK, and wipeSessionKeys the keys', () => {
  const v = DRAFT_21;
  const isk = finishCpace(sodium, fixedStart(v, 'initiator'), hex(v.Yb), v.ADb);
  const copy = Uint8Array.from(isk);
  const keys = deriveSessionKeys(sodium, isk);
  assert.equal(isk.length, 64);
  assert.ok(sodium.is_zero(isk));
  // The keys were derived before the wipe: the same ISK gives the same keys.
  assert.deepEqual(deriveSessionKeys(sodium, copy), keys);
  assert.ok(sodium.is_zero(copy));
  for (const key of Object.values(keys)) assert.equal(sodium.is_zero(key), false);

  wipeSessionKeys(sodium, keys);
  const fields = Object.entries(keys);
  assert.equal(fields.length, 5);
  for (const [name, key] of fields) {
    assert.equal(key.length, 32, name);
    assert.ok(sodium.is_zero(key), name);
  }
});
