'use strict';
// tests/clients/harness.js - the few helpers the Node client tests share:
// named checks that all run (a failure is printed and counted, the next
// check goes on), deep-equality expectations with readable diffs, and the
// settings run.sh passes in the environment.

const assert = require('node:assert');
const util = require('node:util');

const env = {
  port: Number(process.env.RINGKV_TEST_PORT || 6379),
  authPort: process.env.RINGKV_TEST_AUTH_PORT
    ? Number(process.env.RINGKV_TEST_AUTH_PORT) : 0,
  password: process.env.RINGKV_TEST_PASSWORD || '',
};

const passed = [];
const failed = [];

class CheckFailed extends Error {}

function show(v) {
  if (Buffer.isBuffer(v) && v.length > 64) {
    return `<Buffer ${v.length} bytes>`;
  }
  return util.inspect(v, { depth: 4, maxArrayLength: 10, breakLength: 120 });
}

function expect(what, got, want) {
  try {
    assert.deepStrictEqual(got, want);
  } catch (e) {
    throw new CheckFailed(`${what}: got ${show(got)}, want ${show(want)}`);
  }
}

function expectTrue(what, cond, detail = '') {
  if (!cond) {
    throw new CheckFailed(`${what} ${detail}`);
  }
}

// The error a promise rejects with, or a failure if it resolves.
async function rejection(what, promise) {
  try {
    const v = await promise;
    throw new CheckFailed(`${what}: resolved with ${show(v)}, want an error`);
  } catch (e) {
    if (e instanceof CheckFailed) {
      throw e;
    }
    return e;
  }
}

// Resolve with fn's promise, or reject after ms with a message.
function within(what, ms, promise) {
  let timer;
  const timeout = new Promise((_, reject) => {
    timer = setTimeout(() => reject(new CheckFailed(
      `${what}: no answer within ${ms} ms`)), ms);
  });
  return Promise.race([promise, timeout]).finally(() => clearTimeout(timer));
}

async function check(name, fn) {
  try {
    await fn();
    passed.push(name);
    console.log(`ok: ${name}`);
  } catch (e) {
    failed.push(name);
    if (e instanceof CheckFailed) {
      console.log(`FAIL: ${name}: ${e.message}`);
    } else {
      console.log(`FAIL: ${name}: ${e && e.name}: ${e && e.message}`);
      if (e && e.stack) {
        console.log(e.stack.split('\n').slice(1, 5).join('\n'));
      }
    }
  }
}

function finish() {
  console.log(`${passed.length} passed, ${failed.length} failed`);
  if (failed.length) {
    console.log(`failed: ${failed.join(', ')}`);
  }
  return failed.length ? 1 : 0;
}

// A 1 MiB buffer holding every byte value.
function bigBuffer() {
  const b = Buffer.alloc(1 << 20);
  for (let i = 0; i < b.length; i++) {
    b[i] = i & 0xff;
  }
  return b;
}

module.exports = {
  env, check, expect, expectTrue, rejection, within, finish, bigBuffer,
  CheckFailed,
};
