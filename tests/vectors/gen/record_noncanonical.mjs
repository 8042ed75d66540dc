#!/usr/bin/env node
// Records EIP-712 reference digests for *non-canonical but legal* typed-data
// documents, using two independent JS implementations:
//
//   * @metamask/eth-sig-util  TypedDataUtils.eip712Hash(data, V4)
//   * viem                    hashTypedData({domain, types, primaryType, message})
//
// Output: tests/vectors/eip712_noncanonical.json (read by the Rust and Python
// test suites; CI does not need node). Re-run with:
//
//   cd tests/vectors/gen && npm install && node record_noncanonical.mjs
//
// The script exits non-zero if the x402 / EIP-712-spec control vectors are not
// reproduced, or if a spec-implied invariant (e.g. "unused extra types do not
// change the hash") fails for eth-sig-util.

import { readFileSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

import { SignTypedDataVersion, TypedDataUtils } from '@metamask/eth-sig-util';
import { hashDomain, hashTypedData } from 'viem';

const HERE = dirname(fileURLToPath(import.meta.url));
const OUT = join(HERE, '..', 'eip712_noncanonical.json');
const V4 = SignTypedDataVersion.V4;

// ---------------------------------------------------------------------------
// Common building blocks
// ---------------------------------------------------------------------------

const USDC_DOMAIN = {
  name: 'USDC',
  version: '2',
  chainId: 84532,
  verifyingContract: '0x036CbD53842c5426634e7929541eC2318f3dCF7e',
};

const CANONICAL_DOMAIN_TYPE = [
  { name: 'name', type: 'string' },
  { name: 'version', type: 'string' },
  { name: 'chainId', type: 'uint256' },
  { name: 'verifyingContract', type: 'address' },
];

const TWA_TYPE = [
  { name: 'from', type: 'address' },
  { name: 'to', type: 'address' },
  { name: 'value', type: 'uint256' },
  { name: 'validAfter', type: 'uint256' },
  { name: 'validBefore', type: 'uint256' },
  { name: 'nonce', type: 'bytes32' },
];

const TWA_MESSAGE = {
  from: '0x857b06519E91e3A54538791bDbb0E22373e36b66',
  to: '0x209693Bc6afc0C5328bA36FaF03C514EF312287C',
  value: '10000',
  validAfter: '1740672089',
  validBefore: '1740672154',
  nonce: '0xf3746613c2d920b5fdabc0856f2aeb2d4f88ee6037b8cc5d04a71a4462f13480',
};

const X402_EXPECTED = {
  digest: '0xf256992871671abcb27ff92885a7afa46218724e5fc0bac35d050115aa1d22e6',
  domain_separator: '0x71f17a3b2ff373b803d70a5a07c046c1a2bc8e89c09ef722fcb047abe94c9818',
};

// EIP-712 spec example (assets/eip-712/Example.js in ethereum/ERCs).
const MAIL_DOMAIN = {
  name: 'Ether Mail',
  version: '1',
  chainId: 1,
  verifyingContract: '0xCcCCccccCCCCcCCCCCCcCcCccCcCCCcCcccccccC',
};
const MAIL_TYPES = {
  Person: [
    { name: 'name', type: 'string' },
    { name: 'wallet', type: 'address' },
  ],
  Mail: [
    { name: 'from', type: 'Person' },
    { name: 'to', type: 'Person' },
    { name: 'contents', type: 'string' },
  ],
};
const MAIL_MESSAGE = {
  from: { name: 'Cow', wallet: '0xCD2a3d9F938E13CD947Ec05AbC7FE734Df8DD826' },
  to: { name: 'Bob', wallet: '0xbBbBBBBbbBBBbbbBbbBbbbbBBbBbbbbBbBbbBBbB' },
  contents: 'Hello, Bob!',
};
const MAIL_EXPECTED = {
  digest: '0xbe609aee343fb3c4b28e1df9e632fca64fcfaede20f02e86244efddf30957bd2',
  domain_separator: '0xf2cee375fa42b42143804025fc449deafd50cc031ca257e0b194a650a912090f',
};

const UINT256_MAX =
  '115792089237316195423570985008687907853269984665640564039457584007913129639935';
const INT256_MAX =
  '57896044618658097711785492504343953926634992332820282019728792003956564819967';
const INT256_MIN =
  '-57896044618658097711785492504343953926634992332820282019728792003956564819968';

const SALT = '0x5a1f4c3b2e1d0f9e8d7c6b5a49382716f5e4d3c2b1a09f8e7d6c5b4a39281706';

/** Build a typed-data document with a fixed key order. */
function doc(types, primaryType, domain, message) {
  return { types, primaryType, domain, message };
}

/** x402-style document with the given EIP712Domain type and domain values. */
function twaDoc(domainType, domain, message = TWA_MESSAGE) {
  return doc(
    { EIP712Domain: domainType, TransferWithAuthorization: TWA_TYPE },
    'TransferWithAuthorization',
    domain,
    message,
  );
}

const pick = (obj, keys) => Object.fromEntries(keys.map((k) => [k, obj[k]]));
const field = (name, type) => ({ name, type });

// ---------------------------------------------------------------------------
// Cases
// ---------------------------------------------------------------------------

const CASES = [
  // --- controls --------------------------------------------------------------
  {
    name: 'x402_transfer_with_authorization',
    description:
      'Control: canonical x402 / EIP-3009 TransferWithAuthorization on Base Sepolia USDC (integers as decimal strings, EIP-55 addresses).',
    data: twaDoc(CANONICAL_DOMAIN_TYPE, USDC_DOMAIN),
  },
  {
    name: 'eip712_spec_mail',
    description: 'Control: the EIP-712 specification Mail/Person example (chainId 1).',
    data: doc(
      { EIP712Domain: CANONICAL_DOMAIN_TYPE, ...MAIL_TYPES },
      'Mail',
      MAIL_DOMAIN,
      MAIL_MESSAGE,
    ),
  },

  // --- value-representation variants of the x402 control (same digest) -------
  {
    name: 'x402_integers_as_json_numbers',
    description:
      'x402 control with every uint256 (message value/validAfter/validBefore) given as a JSON number instead of a decimal string; must equal the control digest.',
    data: twaDoc(CANONICAL_DOMAIN_TYPE, USDC_DOMAIN, {
      ...TWA_MESSAGE,
      value: 10000,
      validAfter: 1740672089,
      validBefore: 1740672154,
    }),
  },
  {
    name: 'x402_chain_id_decimal_string',
    description:
      'x402 control with domain.chainId given as the decimal string "84532" instead of a JSON number; must equal the control digest.',
    data: twaDoc(CANONICAL_DOMAIN_TYPE, { ...USDC_DOMAIN, chainId: '84532' }),
  },
  {
    name: 'x402_lowercase_addresses',
    description:
      'x402 control with all addresses (from, to, verifyingContract) lowercase instead of EIP-55; must equal the control digest.',
    data: twaDoc(
      CANONICAL_DOMAIN_TYPE,
      { ...USDC_DOMAIN, verifyingContract: USDC_DOMAIN.verifyingContract.toLowerCase() },
      { ...TWA_MESSAGE, from: TWA_MESSAGE.from.toLowerCase(), to: TWA_MESSAGE.to.toLowerCase() },
    ),
  },
  {
    name: 'x402_extra_message_fields',
    description:
      'x402 control with message keys not declared in the struct type ("memo", "extra"); undeclared keys are ignored, must equal the control digest.',
    data: twaDoc(CANONICAL_DOMAIN_TYPE, USDC_DOMAIN, {
      ...TWA_MESSAGE,
      memo: 'ignored',
      extra: { nested: 1 },
    }),
  },

  // --- EIP712Domain shape ----------------------------------------------------
  {
    name: 'domain_fields_reordered',
    description:
      'EIP712Domain members declared as (chainId, name, verifyingContract, version); same USDC domain values and x402 message. encodeType follows declaration order, so the domain separator differs from the control.',
    data: twaDoc(
      [
        field('chainId', 'uint256'),
        field('name', 'string'),
        field('verifyingContract', 'address'),
        field('version', 'string'),
      ],
      pick(USDC_DOMAIN, ['chainId', 'name', 'verifyingContract', 'version']),
    ),
  },
  {
    name: 'domain_only_name',
    description: 'Partial EIP712Domain with only `string name`; domain {name:"USDC"}; x402 message.',
    data: twaDoc([field('name', 'string')], pick(USDC_DOMAIN, ['name'])),
  },
  {
    name: 'domain_name_version',
    description:
      'Partial EIP712Domain with only `string name,string version`; domain {name:"USDC",version:"2"}; x402 message.',
    data: twaDoc(
      [field('name', 'string'), field('version', 'string')],
      pick(USDC_DOMAIN, ['name', 'version']),
    ),
  },
  {
    name: 'domain_type_subset_of_values',
    description:
      'EIP712Domain declares only name,version but the domain object also carries chainId and verifyingContract; undeclared domain keys are ignored, so this must equal domain_name_version.',
    data: twaDoc([field('name', 'string'), field('version', 'string')], USDC_DOMAIN),
  },
  {
    name: 'domain_chain_id_verifying_contract',
    description:
      'Partial EIP712Domain with only `uint256 chainId,address verifyingContract`; x402 message.',
    data: twaDoc(
      [field('chainId', 'uint256'), field('verifyingContract', 'address')],
      pick(USDC_DOMAIN, ['chainId', 'verifyingContract']),
    ),
  },
  {
    name: 'domain_empty',
    description:
      'Empty EIP712Domain type [] with empty domain {}; domain separator is keccak256(keccak256("EIP712Domain()")); x402 message.',
    data: twaDoc([], {}),
  },
  {
    name: 'domain_salt_only',
    description: 'EIP712Domain with only `bytes32 salt`; x402 message.',
    data: twaDoc([field('salt', 'bytes32')], { salt: SALT }),
  },
  {
    name: 'domain_all_five_with_salt',
    description:
      'EIP712Domain with all five spec fields in spec order (name, version, chainId, verifyingContract, salt); x402 message.',
    data: twaDoc([...CANONICAL_DOMAIN_TYPE, field('salt', 'bytes32')], {
      ...USDC_DOMAIN,
      salt: SALT,
    }),
  },
  {
    name: 'domain_unicode_name_empty_version',
    description:
      'Canonical EIP712Domain field list but name is non-ASCII UTF-8 (incl. an astral-plane emoji) and version is the empty string; x402 message.',
    data: twaDoc(CANONICAL_DOMAIN_TYPE, {
      ...USDC_DOMAIN,
      name: 'Ünïcödé Dollar — 美元 🚀',
      version: '',
    }),
  },

  // --- primaryType EIP712Domain ----------------------------------------------
  {
    name: 'primary_type_eip712domain',
    description:
      'primaryType "EIP712Domain" with the USDC domain: digest = keccak256(0x1901 || domainSeparator), no struct hash appended; message is {}.',
    data: doc(
      { EIP712Domain: CANONICAL_DOMAIN_TYPE, TransferWithAuthorization: TWA_TYPE },
      'EIP712Domain',
      USDC_DOMAIN,
      {},
    ),
  },
  {
    name: 'primary_type_eip712domain_empty',
    description:
      'primaryType "EIP712Domain" with empty EIP712Domain type and empty domain; digest = keccak256(0x1901 || keccak256(keccak256("EIP712Domain()"))).',
    data: doc({ EIP712Domain: [] }, 'EIP712Domain', {}, {}),
  },

  // --- empty structs -----------------------------------------------------------
  {
    name: 'empty_struct_primary',
    description: 'Struct type with no members (`Empty: []`) as the primary type; message {}. encodeType "Empty()".',
    data: doc({ EIP712Domain: CANONICAL_DOMAIN_TYPE, Empty: [] }, 'Empty', USDC_DOMAIN, {}),
  },
  {
    name: 'empty_struct_as_field',
    description:
      'Empty struct used as a plain member, as a dynamic array member (2 elements) and as an empty array, alongside a uint256.',
    data: doc(
      {
        EIP712Domain: CANONICAL_DOMAIN_TYPE,
        Wrapper: [
          field('e', 'Empty'),
          field('x', 'uint256'),
          field('es', 'Empty[]'),
          field('none', 'Empty[]'),
        ],
        Empty: [],
      },
      'Wrapper',
      USDC_DOMAIN,
      { e: {}, x: '1', es: [{}, {}], none: [] },
    ),
  },

  // --- recursion ---------------------------------------------------------------
  {
    name: 'recursive_tree',
    description:
      'Self-recursive type Node(uint256 value,Node[] children) with a 3-level tree (leaves have empty children arrays).',
    data: doc(
      {
        EIP712Domain: CANONICAL_DOMAIN_TYPE,
        Node: [field('value', 'uint256'), field('children', 'Node[]')],
      },
      'Node',
      USDC_DOMAIN,
      {
        value: '1',
        children: [
          {
            value: '2',
            children: [
              { value: '4', children: [] },
              { value: '5', children: [] },
            ],
          },
          { value: '3', children: [{ value: '6', children: [] }] },
        ],
      },
    ),
  },
  {
    name: 'mutually_recursive',
    description:
      'Mutually recursive types A(string label,B[] bs) and B(uint256 n,A[] as); encodeType of A lists B once.',
    data: doc(
      {
        EIP712Domain: CANONICAL_DOMAIN_TYPE,
        A: [field('label', 'string'), field('bs', 'B[]')],
        B: [field('n', 'uint256'), field('as', 'A[]')],
      },
      'A',
      USDC_DOMAIN,
      {
        label: 'root',
        bs: [
          { n: '1', as: [{ label: 'leaf-a', bs: [] }] },
          { n: '2', as: [] },
          { n: '3', as: [{ label: 'mid', bs: [{ n: '4', as: [] }] }] },
        ],
      },
    ),
  },

  // --- unused types ----------------------------------------------------------
  {
    name: 'unused_extra_types',
    description:
      'EIP-712 Mail example plus unused types (one sorting before Mail, one referencing Person, one recursive); must equal eip712_spec_mail.',
    data: doc(
      {
        EIP712Domain: CANONICAL_DOMAIN_TYPE,
        AAAUnused: [field('x', 'uint256')],
        ...MAIL_TYPES,
        Envelope: [field('mail', 'Mail'), field('sender', 'Person')],
        Loop: [field('next', 'Loop[]')],
      },
      'Mail',
      MAIL_DOMAIN,
      MAIL_MESSAGE,
    ),
  },

  // --- arrays ----------------------------------------------------------------
  {
    name: 'nested_struct_arrays',
    description:
      'Struct containing Person[] and a 2-D Person[][] (including an empty inner team), plus a nested struct holding its own struct array.',
    data: doc(
      {
        EIP712Domain: CANONICAL_DOMAIN_TYPE,
        Group: [
          field('title', 'string'),
          field('members', 'Person[]'),
          field('teams', 'Person[][]'),
          field('sub', 'SubGroup'),
        ],
        SubGroup: [field('lead', 'Person'), field('crew', 'Person[]')],
        Person: MAIL_TYPES.Person,
      },
      'Group',
      USDC_DOMAIN,
      {
        title: 'group',
        members: [
          { name: 'Cow', wallet: '0xCD2a3d9F938E13CD947Ec05AbC7FE734Df8DD826' },
          { name: 'Bob', wallet: '0xbBbBBBBbbBBBbbbBbbBbbbbBBbBbbbbBbBbbBBbB' },
        ],
        teams: [
          [{ name: 'A1', wallet: '0x0000000000000000000000000000000000000001' }],
          [],
          [
            { name: 'C1', wallet: '0x0000000000000000000000000000000000000002' },
            { name: 'C2', wallet: '0xffffffffffffffffffffffffffffffffffffffff' },
          ],
        ],
        sub: {
          lead: { name: 'Lead', wallet: '0x857b06519E91e3A54538791bDbb0E22373e36b66' },
          crew: [{ name: '', wallet: '0x0000000000000000000000000000000000000000' }],
        },
      },
    ),
  },
  {
    name: 'multi_dim_and_fixed_arrays',
    description:
      'uint256[][] (with an empty inner row), address[2], uint8[3], bytes32[2], string[], bool[] and int16[][2] (fixed outer, dynamic inner).',
    data: doc(
      {
        EIP712Domain: CANONICAL_DOMAIN_TYPE,
        Arrays: [
          field('matrix', 'uint256[][]'),
          field('pair', 'address[2]'),
          field('triple', 'uint8[3]'),
          field('hashes', 'bytes32[2]'),
          field('words', 'string[]'),
          field('flags', 'bool[]'),
          field('ragged', 'int16[][2]'),
        ],
      },
      'Arrays',
      USDC_DOMAIN,
      {
        matrix: [[], ['1'], ['2', '3'], [UINT256_MAX]],
        pair: [
          '0x857b06519E91e3A54538791bDbb0E22373e36b66',
          '0x209693bc6afc0c5328ba36faf03c514ef312287c',
        ],
        triple: [0, '255', 7],
        hashes: [
          '0x0000000000000000000000000000000000000000000000000000000000000000',
          '0xf3746613c2d920b5fdabc0856f2aeb2d4f88ee6037b8cc5d04a71a4462f13480',
        ],
        words: ['', 'a', 'héllo'],
        flags: [true, false, true],
        ragged: [['-1', '32767', '-32768'], []],
      },
    ),
  },
  {
    name: 'empty_dynamic_arrays',
    description:
      'Every dynamic array empty: Person[] [], uint256[] [], uint256[][] [], bytes[] [], string[] [] (each encodes as keccak256 of the empty string).',
    data: doc(
      {
        EIP712Domain: CANONICAL_DOMAIN_TYPE,
        Empties: [
          field('people', 'Person[]'),
          field('nums', 'uint256[]'),
          field('grid', 'uint256[][]'),
          field('blobs', 'bytes[]'),
          field('strs', 'string[]'),
        ],
        Person: MAIL_TYPES.Person,
      },
      'Empties',
      USDC_DOMAIN,
      { people: [], nums: [], grid: [], blobs: [], strs: [] },
    ),
  },

  // --- scalar edge values ------------------------------------------------------
  {
    name: 'bytes_and_strings',
    description:
      'bytes empty (0x), bytes non-empty (mixed-case hex), bytes1, bytes32, bytes[] with an empty element, empty string, and non-ASCII UTF-8 string (combining chars, CJK, astral emoji).',
    data: doc(
      {
        EIP712Domain: CANONICAL_DOMAIN_TYPE,
        Blobs: [
          field('empty', 'bytes'),
          field('data', 'bytes'),
          field('one', 'bytes1'),
          field('full', 'bytes32'),
          field('list', 'bytes[]'),
          field('blank', 'string'),
          field('text', 'string'),
        ],
      },
      'Blobs',
      USDC_DOMAIN,
      {
        empty: '0x',
        data: '0xDeadBeef00',
        one: '0xab',
        full: '0x00000000000000000000000000000000000000000000000000000000000000ff',
        list: ['0x', '0x01', '0x0203'],
        blank: '',
        text: 'Grüße, naïve café — 日本語テキスト 🚀🦀 e\u0301',
      },
    ),
  },
  {
    name: 'integer_edges',
    description:
      'Signed/unsigned extremes: int8 -128/127/-1, int16 -32768, int64 min, int256 min/max/-1, uint8 255, uint256 0 and max (decimal strings), and small negative/positive JSON numbers.',
    data: doc(
      {
        EIP712Domain: CANONICAL_DOMAIN_TYPE,
        Ints: [
          field('i8min', 'int8'),
          field('i8max', 'int8'),
          field('i8neg1', 'int8'),
          field('i16min', 'int16'),
          field('i64min', 'int64'),
          field('i256min', 'int256'),
          field('i256max', 'int256'),
          field('i256neg1', 'int256'),
          field('u8max', 'uint8'),
          field('u256zero', 'uint256'),
          field('u256max', 'uint256'),
          field('numNeg', 'int32'),
          field('numPos', 'uint64'),
          field('flag', 'bool'),
        ],
      },
      'Ints',
      USDC_DOMAIN,
      {
        i8min: '-128',
        i8max: '127',
        i8neg1: '-1',
        i16min: '-32768',
        i64min: '-9223372036854775808',
        i256min: INT256_MIN,
        i256max: INT256_MAX,
        i256neg1: '-1',
        u8max: '255',
        u256zero: '0',
        u256max: UINT256_MAX,
        numNeg: -42,
        numPos: 9007199254740991,
        flag: false,
      },
    ),
  },

  // --- dependency ordering in encodeType ------------------------------------------
  {
    name: 'type_name_sorting_case',
    description:
      'Dependencies named Zebra, apple, Apple, _x (declared in that order). encodeType sorts dependency names by byte/code-unit order: Apple < Zebra < _x < apple (uppercase before underscore before lowercase).',
    data: doc(
      {
        EIP712Domain: CANONICAL_DOMAIN_TYPE,
        Root: [
          field('z', 'Zebra'),
          field('a', 'apple'),
          field('b', 'Apple'),
          field('u', '_x'),
        ],
        Zebra: [field('stripes', 'uint8')],
        apple: [field('seeds', 'uint8')],
        Apple: [field('color', 'string')],
        _x: [field('v', 'bool')],
      },
      'Root',
      USDC_DOMAIN,
      {
        z: { stripes: 30 },
        a: { seeds: '5' },
        b: { color: 'red' },
        u: { v: true },
      },
    ),
  },
  {
    name: 'type_name_sorting_prefixes',
    description:
      'Primary type "zzz" (sorts last but is always emitted first) with dependencies Items, Item_, Item2, Item, AB, A1, reached partly via arrays; byte order gives A1 < AB < Item < Item2 < Item_ < Items (a name sorts before its extensions).',
    data: doc(
      {
        EIP712Domain: CANONICAL_DOMAIN_TYPE,
        zzz: [
          field('s', 'Items'),
          field('u', 'Item_[]'),
          field('two', 'Item2'),
          field('ab', 'AB[2]'),
        ],
        Items: [field('list', 'Item[]')],
        Item_: [field('k', 'uint256')],
        Item2: [field('inner', 'A1')],
        Item: [field('id', 'uint256')],
        AB: [field('flag', 'bool')],
        A1: [field('n', 'int8')],
      },
      'zzz',
      USDC_DOMAIN,
      {
        s: { list: [{ id: '1' }, { id: '2' }] },
        u: [{ k: '7' }],
        two: { inner: { n: '-3' } },
        ab: [{ flag: true }, { flag: false }],
      },
    ),
  },
  {
    name: 'diamond_dependencies',
    description:
      'Diamond: Root -> Left, Right; both -> Leaf (once as Leaf, once as Leaf[]). encodeType lists Leaf exactly once.',
    data: doc(
      {
        EIP712Domain: CANONICAL_DOMAIN_TYPE,
        Root: [field('left', 'Left'), field('right', 'Right')],
        Right: [field('leaves', 'Leaf[]')],
        Left: [field('leaf', 'Leaf'), field('note', 'string')],
        Leaf: [field('x', 'uint256')],
      },
      'Root',
      USDC_DOMAIN,
      {
        left: { leaf: { x: '1' }, note: 'l' },
        right: { leaves: [{ x: '2' }, { x: '3' }] },
      },
    ),
  },
  {
    name: 'struct_named_like_solidity_prefix',
    description:
      'A legal struct type named "intent" (lowercase, starts with "int") used as a member. EIP-712 resolves it as a struct since it is defined in types; viem\'s validateTypedData rejects struct names starting with int/uint/bytes (InvalidStructTypeError).',
    data: doc(
      {
        EIP712Domain: CANONICAL_DOMAIN_TYPE,
        Order: [field('what', 'intent'), field('amount', 'uint256')],
        intent: [field('action', 'string'), field('target', 'address')],
      },
      'Order',
      USDC_DOMAIN,
      {
        what: { action: 'pay', target: '0x209693Bc6afc0C5328bA36FaF03C514EF312287C' },
        amount: '10000',
      },
    ),
  },
];

// ---------------------------------------------------------------------------
// Hashing
// ---------------------------------------------------------------------------

const toHex = (buf) => '0x' + Buffer.from(buf).toString('hex');
const clone = (x) => structuredClone(x);
const errText = (e) => String(e?.shortMessage ?? e?.message ?? e);

function attempt(fn) {
  try {
    return { value: fn(), error: null };
  } catch (e) {
    return { value: null, error: errText(e) };
  }
}

function ethSigUtilDigest(data) {
  return toHex(TypedDataUtils.eip712Hash(clone(data), V4));
}
function ethSigUtilDomainSeparator(data) {
  const d = clone(data);
  return toHex(TypedDataUtils.hashStruct('EIP712Domain', d.domain, d.types, V4));
}
function viemDigest(data, { dropDomainType = false } = {}) {
  const d = clone(data);
  let types = d.types;
  if (dropDomainType) {
    const { EIP712Domain: _ignored, ...rest } = types;
    types = rest;
  }
  return hashTypedData({
    domain: d.domain,
    types,
    primaryType: d.primaryType,
    message: d.message,
  });
}
function viemDomainSeparator(data) {
  const d = clone(data);
  return hashDomain({ domain: d.domain, types: d.types });
}

function record(c) {
  const esuDigest = attempt(() => ethSigUtilDigest(c.data));
  const viemD = attempt(() => viemDigest(c.data));
  const esuSep = attempt(() => ethSigUtilDomainSeparator(c.data));
  const viemSep = attempt(() => viemDomainSeparator(c.data));
  const encType = attempt(() => TypedDataUtils.encodeType(c.data.primaryType, clone(c.data.types)));

  const agree =
    esuDigest.value !== null &&
    esuDigest.value === viemD.value &&
    esuSep.value !== null &&
    esuSep.value === viemSep.value;

  const out = {
    name: c.name,
    description: c.description,
    data: c.data,
    digest: { eth_sig_util: esuDigest.value, viem: viemD.value },
    agree,
    domain_separator: { eth_sig_util: esuSep.value, viem: viemSep.value },
    encode_type: encType.value,
  };
  const errors = {};
  if (esuDigest.error) errors.eth_sig_util = esuDigest.error;
  if (viemD.error) errors.viem = viemD.error;
  if (esuSep.error) errors.eth_sig_util_domain_separator = esuSep.error;
  if (viemSep.error) errors.viem_domain_separator = viemSep.error;
  if (encType.error) errors.encode_type = encType.error;
  if (Object.keys(errors).length > 0) out.errors = errors;
  return out;
}

// ---------------------------------------------------------------------------
// Main
// ---------------------------------------------------------------------------

const names = new Set();
for (const c of CASES) {
  if (names.has(c.name)) throw new Error(`duplicate case name ${c.name}`);
  names.add(c.name);
}

const results = CASES.map(record);
const byName = Object.fromEntries(results.map((r) => [r.name, r]));

const failures = [];
function expectEq(label, actual, expected) {
  if (actual !== expected) failures.push(`${label}: got ${actual}, expected ${expected}`);
}

// Controls: both libraries must reproduce the known vectors.
for (const lib of ['eth_sig_util', 'viem']) {
  const x = byName.x402_transfer_with_authorization;
  expectEq(`x402 digest (${lib})`, x.digest[lib], X402_EXPECTED.digest);
  expectEq(`x402 domain separator (${lib})`, x.domain_separator[lib], X402_EXPECTED.domain_separator);
  const m = byName.eip712_spec_mail;
  expectEq(`mail digest (${lib})`, m.digest[lib], MAIL_EXPECTED.digest);
  expectEq(`mail domain separator (${lib})`, m.domain_separator[lib], MAIL_EXPECTED.domain_separator);
}

// Spec-implied invariants, checked against eth-sig-util (the V4 reference).
const esu = (n) => byName[n].digest.eth_sig_util;
for (const n of [
  'x402_integers_as_json_numbers',
  'x402_chain_id_decimal_string',
  'x402_lowercase_addresses',
  'x402_extra_message_fields',
]) {
  expectEq(`${n} == x402 control (eth_sig_util)`, esu(n), X402_EXPECTED.digest);
}
expectEq('unused_extra_types == eip712_spec_mail', esu('unused_extra_types'), MAIL_EXPECTED.digest);
expectEq(
  'domain_type_subset_of_values == domain_name_version',
  esu('domain_type_subset_of_values'),
  esu('domain_name_version'),
);
if (esu('domain_fields_reordered') === X402_EXPECTED.digest) {
  failures.push('domain_fields_reordered unexpectedly equals the canonical x402 digest');
}
expectEq(
  'encodeType type_name_sorting_case',
  byName.type_name_sorting_case.encode_type,
  'Root(Zebra z,apple a,Apple b,_x u)Apple(string color)Zebra(uint8 stripes)_x(bool v)apple(uint8 seeds)',
);

// Informational: what viem computes when types.EIP712Domain is omitted and it
// has to derive the domain type from the domain object's keys.
const derivedDiffers = [];
for (const c of CASES) {
  const explicit = byName[c.name].digest.viem;
  const derived = attempt(() => viemDigest(c.data, { dropDomainType: true }));
  if (derived.value !== explicit) {
    derivedDiffers.push(c.name);
    console.error(
      `[info] viem derived-domain digest differs for ${c.name}: explicit=${explicit} derived=${derived.value ?? 'ERROR ' + derived.error}`,
    );
  }
}

const pkgVersion = (name) =>
  JSON.parse(readFileSync(join(HERE, 'node_modules', ...name.split('/'), 'package.json'), 'utf8'))
    .version;
const libraries = {
  '@metamask/eth-sig-util': pkgVersion('@metamask/eth-sig-util'),
  viem: pkgVersion('viem'),
};
if (libraries['@metamask/eth-sig-util'] !== '8.2.0' || libraries.viem !== '2.31.0') {
  failures.push(`unexpected library versions ${JSON.stringify(libraries)}`);
}

const disagreements = results.filter((r) => !r.agree).map((r) => r.name);

const output = {
  provenance: {
    generator: 'tests/vectors/gen/record_noncanonical.mjs',
    libraries,
    node: process.version,
    recorded: new Date().toISOString().slice(0, 10),
    notes: [
      'Non-canonical but legal EIP-712 typed-data documents, each hashed with',
      '@metamask/eth-sig-util TypedDataUtils.eip712Hash(data, V4) and viem hashTypedData({domain, types, primaryType, message}).',
      'domain_separator: eth-sig-util TypedDataUtils.hashStruct("EIP712Domain", domain, types, "V4") and viem hashDomain({domain, types}).',
      'encode_type: eth-sig-util TypedDataUtils.encodeType(primaryType, types).',
      'types.EIP712Domain is always given explicitly; viem merges {EIP712Domain: <derived from domain keys>, ...types}, so an explicit',
      'EIP712Domain (reordered, partial, empty) overrides its derivation and is honoured.',
      `With types.EIP712Domain omitted, viem's derived domain type would change the digest for: ${derivedDiffers.join(', ') || '(none)'}.`,
      'agree = both digests and both domain separators non-null and equal.',
      `Cases where the libraries disagree: ${disagreements.join(', ') || '(none)'}.`,
    ].join(' '),
  },
  cases: results,
};

console.log(`disagreements: ${disagreements.join(', ') || '(none)'}`);
for (const r of results.filter((r) => r.errors)) {
  console.log(`  ${r.name}: ${JSON.stringify(r.errors)}`);
}

if (failures.length > 0) {
  console.error('FAILED checks (output file NOT written):');
  for (const f of failures) console.error(`  - ${f}`);
  process.exit(1);
}

writeFileSync(OUT, JSON.stringify(output, null, 2) + '\n');
console.log(`wrote ${results.length} cases to ${OUT}`);
console.log('all control vectors and invariants OK');
