'use strict';
// tests/clients/test_node_redis.js [MODULE] - node-redis against ringkv with
// the client's default settings:
//   createClient({ url: 'redis://127.0.0.1:P' }) then connect().
// MODULE is the npm name to load: 'redis' (the current release, pinned in
// package.json) or 'redis-v4' (the 4.x line, an npm alias of redis@4).
//
// What the defaults send at connect differs by major version: 4.x speaks
// RESP2 and pipelines CLIENT SETINFO LIB-VER/LIB-NAME (errors ignored);
// 5.x and later open with HELLO 3 (RESP3 is their default protocol, with no
// fall back to RESP2), then CLIENT SETINFO and CLIENT MAINT_NOTIFICATIONS
// (errors ignored). If the default connect fails, the remaining checks run
// with { RESP: 2 } so one run shows everything, but the test still fails.
//
// Run by run.sh, which sets RINGKV_TEST_PORT, RINGKV_TEST_AUTH_PORT and
// RINGKV_TEST_PASSWORD. Exit status: 0 passed, 1 failed, 77 the module is
// not installed (run `npm ci` here).

const path = require('node:path');
const {
  env, check, expect, expectTrue, rejection, within, finish, bigBuffer,
} = require('./harness');

const modName = process.argv[2] || 'redis';
let redis;
let version;
try {
  redis = require(modName);
  version = require(`${modName}/package.json`).version;
} catch (e) {
  console.error(`SKIP: ${modName} is not installed (npm ci in ${__dirname}): `
                + e.message);
  process.exit(77);
}
const major = Number(version.split('.')[0]);
const url = `redis://127.0.0.1:${env.port}`;

// Connect a client; reject on the first 'error' event (the client would
// retry forever) or after ms. A failed client is destroyed so that its
// reconnect loop does not keep the process alive. Resolves with the list
// that collects the client's later 'error' events.
async function connected(client, ms = 5000) {
  const errors = [];
  let failConnect;
  const failed = new Promise((_, reject) => {
    failConnect = reject;
  });
  client.on('error', (e) => {
    errors.push(e);
    failConnect(e);
  });
  try {
    await within('connect()', ms, Promise.race([client.connect(), failed]));
  } catch (e) {
    stop(client);
    throw e;
  }
  failed.catch(() => {});
  return errors;
}

function stop(client) {
  try {
    if (major >= 5) {
      client.destroy();
    } else if (client.isOpen) {
      client.disconnect().catch(() => {});
    }
  } catch (e) {
    // already closed
  }
}

// GET returning a Buffer.
function getBuffer(client, key) {
  if (major >= 5) {
    return client.withTypeMapping({
      [redis.RESP_TYPES.BLOB_STRING]: Buffer,
    }).get(key);
  }
  return client.get(redis.commandOptions({ returnBuffers: true }), key);
}

// All keys from scanIterator (4.x yields keys, 5.x and later yield pages).
async function scanAll(client, options) {
  const keys = [];
  for await (const item of client.scanIterator(options)) {
    if (Array.isArray(item)) {
      keys.push(...item);
    } else {
      keys.push(item);
    }
  }
  return keys;
}

// EXPIRE's reply: a boolean in 4.x, a number from 5.x.
const expireReply = (v) => (major >= 5 ? (v ? 1 : 0) : v);

async function main() {
  console.log(`${modName} ${version} (${path.dirname(
    require.resolve(`${modName}/package.json`))}), ${url}`);

  let c = redis.createClient({ url });
  let errors = [];
  await check('connect() with default settings', async () => {
    errors = await connected(c);
    expect('isReady', c.isReady, true);
    expect('PING', await c.ping(), 'PONG');
  });
  if (!c.isReady) {
    console.log('note: default connect failed; the remaining checks use'
                + ' { RESP: 2 }');
    c = redis.createClient({ url, RESP: 2 });
    errors = await connected(c).catch((e) => {
      console.log(`FAIL: connect with RESP: 2 failed too: ${e.message}`);
      process.exit(1);
    });
  }

  await check('flushDb and dbSize', async () => {
    expect('FLUSHDB', await c.flushDb(), 'OK');
    expect('DBSIZE', await c.dbSize(), 0);
  });

  await check('set/get', async () => {
    expect('SET', await c.set('nr:str', 'value'), 'OK');
    expect('GET', await c.get('nr:str'), 'value');
    expect('GET missing', await c.get('nr:missing'), null);
    expect('SET NX existing', await c.set('nr:str', 'x', { NX: true }), null);
    expect('SET EX', await c.set('nr:ex', 'v', { EX: 50 }), 'OK');
    const ttl = await c.ttl('nr:ex');
    expectTrue('TTL after SET EX 50', ttl >= 48 && ttl <= 50, `got ${ttl}`);
    expect('APPEND', await c.append('nr:str', '-t'), 7);
    expect('STRLEN', await c.strLen('nr:str'), 7);
  });

  await check('binary-safe values, 1 MB', async () => {
    const blob = Buffer.from([0, 13, 10, 255, 36, 42, 13, 10]);
    expect('SET binary', await c.set('nr:bin', blob), 'OK');
    expect('GET binary as Buffer', await getBuffer(c, 'nr:bin'), blob);
    const big = bigBuffer();
    expect('SET 1 MiB', await c.set('nr:big', big), 'OK');
    const got = await getBuffer(c, 'nr:big');
    expectTrue('GET 1 MiB', Buffer.isBuffer(got) && got.equals(big),
      `length ${got && got.length}`);
    expect('STRLEN 1 MiB', await c.strLen('nr:big'), big.length);
    expect('SET unicode', await c.set('nr:ключ', 'значение🔑'), 'OK');
    expect('GET unicode', await c.get('nr:ключ'), 'значение🔑');
  });

  await check('incr family', async () => {
    await c.del('nr:ctr');
    expect('INCR', await c.incr('nr:ctr'), 1);
    expect('INCRBY', await c.incrBy('nr:ctr', 41), 42);
    expect('DECR', await c.decr('nr:ctr'), 41);
    expect('DECRBY', await c.decrBy('nr:ctr', 1), 40);
    expect('INCRBYFLOAT', String(await c.incrByFloat('nr:ctr', 0.5)), '40.5');
  });

  await check('mSet/mGet', async () => {
    expect('MSET object', await c.mSet({ 'nr:m1': 'a', 'nr:m2': 'b' }), 'OK');
    expect('MSET pairs', await c.mSet([['nr:m3', 'c'], ['nr:m4', 'd']]), 'OK');
    expect('MGET', await c.mGet(['nr:m1', 'nr:m2', 'nr:m3', 'nr:m4', 'nr:mx']),
      ['a', 'b', 'c', 'd', null]);
  });

  await check('expire/ttl', async () => {
    await c.set('nr:exp', 'v');
    expect('TTL none', await c.ttl('nr:exp'), -1);
    expect('TTL missing', await c.ttl('nr:exp:missing'), -2);
    expect('EXPIRE', await c.expire('nr:exp', 100), expireReply(true));
    const ttl = await c.ttl('nr:exp');
    expectTrue('TTL after EXPIRE 100', ttl >= 98 && ttl <= 100, `got ${ttl}`);
    expect('PERSIST', await c.persist('nr:exp'), expireReply(true));
    expect('TTL after PERSIST', await c.ttl('nr:exp'), -1);
    expect('EXPIRE missing', await c.expire('nr:nokey', 10),
      expireReply(false));
  });

  await check('del/exists', async () => {
    await c.mSet({ 'nr:d1': '1', 'nr:d2': '2' });
    expect('EXISTS', await c.exists(['nr:d1', 'nr:d2', 'nr:dx']), 2);
    expect('DEL', await c.del(['nr:d1', 'nr:d2', 'nr:dx']), 2);
    expect('EXISTS after DEL', await c.exists('nr:d1'), 0);
  });

  await check('multi/exec', async () => {
    const res = await c.multi()
      .set('nr:t:a', '1')
      .incr('nr:t:a')
      .get('nr:t:a')
      .mGet(['nr:t:a', 'nr:t:none'])
      .exec();
    expect('MULTI/EXEC results', res, ['OK', 2, '2', ['2', null]]);
    // A runtime error inside EXEC: the error is that entry's reply (or
    // exec() rejects with a MultiErrorReply, depending on the version).
    await c.set('nr:t:s', 'abc');
    let replies;
    try {
      replies = await c.multi().incr('nr:t:s').set('nr:t:b', 'x').exec();
    } catch (e) {
      expectTrue('EXEC runtime error', Array.isArray(e.replies),
        `threw ${e.name}: ${e.message}`);
      replies = e.replies;
    }
    expectTrue('EXEC runtime error entry', replies[0] instanceof Error,
      `got ${replies[0]}`);
    expect('EXEC goes on after runtime error', replies[1], 'OK');
    // A queue-time error aborts the transaction (EXECABORT; 6.x rejects
    // with the queueing error itself).
    const e = await rejection('EXEC after queue-time error',
      c.multi().set('nr:t:c', '1').addCommand(['SET', 'nr:t:c']).exec());
    expectTrue('EXECABORT', /EXECABORT|wrong number of arguments/
      .test(e.message), `got ${e.message}`);
    expect('EXECABORT ran nothing', await c.get('nr:t:c'), null);
  });

  await check('pipelines: execAsPipeline and implicit', async () => {
    const res = await c.multi()
      .set('nr:p:a', 'x')
      .get('nr:p:a')
      .incr('nr:p:n')
      .execAsPipeline();
    expect('execAsPipeline', res, ['OK', 'x', 1]);
    const sets = [];
    for (let i = 0; i < 200; i++) {
      sets.push(c.set(`nr:p:${i}`, String(i)));
    }
    expect('200 SET in one write', await Promise.all(sets),
      Array(200).fill('OK'));
    const gets = [];
    for (let i = 0; i < 200; i++) {
      gets.push(c.get(`nr:p:${i}`));
    }
    expect('200 GET in one write', await Promise.all(gets),
      Array.from({ length: 200 }, (_, i) => String(i)));
  });

  await check('watch: EXEC aborted by another client', async () => {
    const other = redis.createClient({ url, RESP: c.options?.RESP });
    other.on('error', () => {});
    await within('second client connect', 5000, other.connect());
    try {
      await c.set('nr:w', '0');
      expect('WATCH', await c.watch('nr:w'), 'OK');
      await other.set('nr:w', '100');
      const e = await rejection('EXEC after a concurrent write',
        c.multi().set('nr:w', '1').exec());
      expect('error class', e.constructor.name, 'WatchError');
      expect('value', await c.get('nr:w'), '100');
      expect('WATCH again', await c.watch('nr:w'), 'OK');
      expect('EXEC with untouched WATCH',
        await c.multi().set('nr:w', '101').exec(), ['OK']);
    } finally {
      stop(other);
    }
  });

  await check('scanIterator over 500 keys', async () => {
    await c.flushDb();
    const sets = [];
    for (let i = 0; i < 500; i++) {
      sets.push(c.set(`nr:scan:${i}`, String(i)));
    }
    sets.push(c.set('nr:other', 'x'));
    await Promise.all(sets);
    const got = await within('scanIterator', 30000,
      scanAll(c, { MATCH: 'nr:scan:*', COUNT: 100 }));
    const want = Array.from({ length: 500 }, (_, i) => `nr:scan:${i}`);
    const gotSet = new Set(got);
    expect('keys missing from scanIterator',
      want.filter((k) => !gotSet.has(k)).slice(0, 5), []);
    expect('non-matching keys', got.filter((k) => !k.startsWith('nr:scan:')),
      []);
    expect('distinct keys', gotSet.size, 500);
    const all = await scanAll(c);
    expect('scanIterator() with defaults: distinct keys', new Set(all).size,
      501);
    expect('KEYS nr:scan:49*', (await c.keys('nr:scan:49*')).sort(),
      ['nr:scan:49', ...Array.from({ length: 10 }, (_, i) => `nr:scan:49${i}`)]
        .sort());
  });

  await check('info', async () => {
    const info = await c.info();
    expectTrue('INFO is a string', typeof info === 'string', typeof info);
    expectTrue('INFO redis_version', /^redis_version:\d/m.test(info));
    expectTrue('INFO loading:0', /^loading:0\r?$/m.test(info));
    expectTrue('INFO connected_clients', /^connected_clients:\d+/m.test(info));
    const ks = await c.info('keyspace');
    expectTrue('INFO keyspace db0', /^db0:keys=501,expires=\d+/m.test(ks),
      JSON.stringify(ks));
  });

  await check('error replies reject with ErrorReply', async () => {
    await c.set('nr:err', 'abc');
    const e1 = await rejection('INCR on a string', c.incr('nr:err'));
    expectTrue('INCR error is an ErrorReply', e1 instanceof redis.ErrorReply,
      `${e1 && e1.constructor.name}`);
    expectTrue('INCR message', /not an integer/.test(e1.message), e1.message);
    const e2 = await rejection('unknown command',
      c.sendCommand(['NOSUCHCOMMAND', 'a']));
    expectTrue('unknown command message', /unknown command/i.test(e2.message),
      e2.message);
    const e3 = await rejection('wrong arity', c.sendCommand(['GET']));
    expectTrue('arity message', /wrong number of arguments/.test(e3.message),
      e3.message);
    expect('PING after errors', await c.ping(), 'PONG');
    expect('client error events', errors.map((x) => x.message), []);
  });

  await check('name option, CLIENT GETNAME/LIST, SETINFO', async () => {
    const n = redis.createClient({ url, name: 'nr-smoke',
      RESP: c.options?.RESP });
    await connected(n);
    try {
      expect('CLIENT GETNAME', await n.clientGetName(), 'nr-smoke');
      const list = await n.sendCommand(['CLIENT', 'LIST']);
      expectTrue('CLIENT LIST has name=nr-smoke', / name=nr-smoke /.test(list),
        JSON.stringify(list));
      const mine = await n.sendCommand(['CLIENT', 'INFO']);
      const lib = /lib-name=(\S*) lib-ver=(\S*)/.exec(mine);
      console.log(`   CLIENT INFO lib-name/lib-ver: ${lib
        ? `${lib[1] || '(empty)'} ${lib[2] || '(empty)'}` : '(no fields)'}`);
    } finally {
      stop(n);
    }
  });

  if (env.authPort) {
    const authUrl = `redis://:${encodeURIComponent(env.password)}@127.0.0.1:`
      + `${env.authPort}`;
    const noPassUrl = `redis://127.0.0.1:${env.authPort}`;
    // Same settings as the main client (defaults, or RESP: 2 after a failed
    // default connect).
    const resp = c.options?.RESP;
    await check('requirepass: password in the URL', async () => {
      const a = redis.createClient({ url: authUrl, RESP: resp });
      const aerr = await connected(a);
      try {
        expect('PING', await a.ping(), 'PONG');
        expect('SET', await a.set('nr:auth', 'v'), 'OK');
        expect('GET', await a.get('nr:auth'), 'v');
        expect('error events', aerr.map((x) => x.message), []);
      } finally {
        stop(a);
      }
    });

    await check('requirepass: no password is refused (NOAUTH)', async () => {
      const a = redis.createClient({ url: noPassUrl, RESP: resp });
      let e;
      try {
        await connected(a);
        // 4.x connects without checking; the first command is refused.
        e = await rejection('GET without password', a.get('nr:auth'));
      } catch (err) {
        e = err;              // HELLO 3 (5.x and later, RESP3) is refused
      } finally {
        stop(a);
      }
      expectTrue('NOAUTH', /NOAUTH/.test(e.message), e.message);
    });
  } else {
    console.log('note: RINGKV_TEST_AUTH_PORT not set, AUTH checks skipped');
  }

  await check(major >= 5 ? 'close()' : 'quit()', async () => {
    await c.flushDb();
    if (major >= 5) {
      await within('close()', 5000, c.close());
    } else {
      expect('QUIT', await within('quit()', 5000, c.quit()), 'OK');
    }
    expect('isOpen after close', c.isOpen, false);
  });

  await check(major >= 5 ? 'quit() (deprecated)' : 'disconnect()', async () => {
    const d = redis.createClient({ url, RESP: c.options?.RESP });
    await connected(d);
    expect('PING', await d.ping(), 'PONG');
    if (major >= 5) {
      expect('QUIT', await within('quit()', 5000, d.quit()), 'OK');
    } else {
      await within('disconnect()', 5000, d.disconnect());
    }
    expect('isOpen after', d.isOpen, false);
  });

  return finish();
}

main().then((rc) => process.exit(rc), (e) => {
  console.log(`FAIL: ${e && e.stack}`);
  process.exit(1);
});
