'use strict';
// tests/clients/test_ioredis.js - ioredis against ringkv with the client's
// default settings (new Redis(port)): its connect handshake (HELLO 3 with a
// fall back to RESP2 on NOPROTO, CLIENT SETINFO, the INFO ready check that
// waits for loading:0), strings, counters, expiry, pipelines, MULTI/EXEC and
// WATCH, scanStream, INFO, error replies, AUTH, and a clean QUIT.
//
// Run by run.sh, which sets RINGKV_TEST_PORT, RINGKV_TEST_AUTH_PORT and
// RINGKV_TEST_PASSWORD. Exit status: 0 passed, 1 failed, 77 ioredis is not
// installed (run `npm ci` here).

const path = require('node:path');
const {
  env, check, expect, expectTrue, rejection, within, finish, bigBuffer,
} = require('./harness');

let Redis;
let version;
try {
  Redis = require('ioredis');
  version = require('ioredis/package.json').version;
} catch (e) {
  console.error(`SKIP: ioredis is not installed (npm ci in ${__dirname}): `
                + e.message);
  process.exit(77);
}

// Wait for a client's 'ready' event; reject on 'end' or after ms.
function ready(client, ms = 5000) {
  if (client.status === 'ready') {
    return Promise.resolve();
  }
  return within('ready event', ms, new Promise((resolve, reject) => {
    client.once('ready', resolve);
    client.once('end', () => reject(new Error('connection ended')));
  }));
}

async function main() {
  console.log(`ioredis ${version} (${path.dirname(require.resolve('ioredis'))}),`
              + ` port ${env.port}`);
  const errors = [];
  const r = new Redis(env.port);
  r.on('error', (e) => errors.push(e));

  await check('connect: handshake and INFO ready check', async () => {
    await ready(r);
    expect('status', r.status, 'ready');
    expect('connection errors', errors.map((e) => e.message), []);
    expect('PING', await r.ping(), 'PONG');
    // What the handshake settled on (ioredis 6 tries RESP3 first).
    const proto = r.condition && r.condition.protocol;
    console.log(`   handshake protocol: RESP${proto}`);
  });

  await check('flushdb and dbsize', async () => {
    expect('FLUSHDB', await r.flushdb(), 'OK');
    expect('DBSIZE', await r.dbsize(), 0);
  });

  await check('set/get', async () => {
    expect('SET', await r.set('io:str', 'value'), 'OK');
    expect('GET', await r.get('io:str'), 'value');
    expect('GET missing', await r.get('io:missing'), null);
    expect('SET NX existing', await r.set('io:str', 'x', 'NX'), null);
    expect('SET XX', await r.set('io:str', 'v2', 'XX'), 'OK');
    expect('SET GET', await r.set('io:str', 'v3', 'GET'), 'v2');
    expect('APPEND', await r.append('io:str', '-t'), 4);
    expect('STRLEN', await r.strlen('io:str'), 4);
    expect('GETDEL', await r.getdel('io:str'), 'v3-t');
  });

  await check('binary-safe values, 1 MB', async () => {
    const blob = Buffer.concat([Buffer.from([0, 13, 10, 255, 36, 42]),
      Buffer.from('\r\n$-1\r\n')]);
    const key = Buffer.from([0x69, 0x6f, 0x3a, 0x00, 0x0d, 0x0a, 0xff]);
    expect('SET binary', await r.set(key, blob), 'OK');
    expect('GET binary (getBuffer)', await r.getBuffer(key), blob);
    const big = bigBuffer();
    expect('SET 1 MiB', await r.set('io:big', big), 'OK');
    const got = await r.getBuffer('io:big');
    expectTrue('GET 1 MiB', Buffer.isBuffer(got) && got.equals(big),
      `length ${got && got.length}`);
    expect('STRLEN 1 MiB', await r.strlen('io:big'), big.length);
    expect('SET unicode', await r.set('io:ключ', 'значение🔑'), 'OK');
    expect('GET unicode', await r.get('io:ключ'), 'значение🔑');
  });

  await check('incr family', async () => {
    await r.del('io:ctr');
    expect('INCR', await r.incr('io:ctr'), 1);
    expect('INCRBY', await r.incrby('io:ctr', 41), 42);
    expect('DECR', await r.decr('io:ctr'), 41);
    expect('DECRBY', await r.decrby('io:ctr', 1), 40);
    expect('INCRBYFLOAT', await r.incrbyfloat('io:ctr', '0.5'), '40.5');
  });

  await check('mset/mget', async () => {
    expect('MSET object', await r.mset({ 'io:m1': 'a', 'io:m2': 'b' }), 'OK');
    expect('MSET list', await r.mset('io:m3', 'c', 'io:m4', 'd'), 'OK');
    expect('MGET', await r.mget('io:m1', 'io:m2', 'io:m3', 'io:m4', 'io:mx'),
      ['a', 'b', 'c', 'd', null]);
    expect('MGET array', await r.mget(['io:m1', 'io:m4']), ['a', 'd']);
  });

  await check('expire/ttl', async () => {
    await r.set('io:exp', 'v');
    expect('TTL none', await r.ttl('io:exp'), -1);
    expect('TTL missing', await r.ttl('io:exp:missing'), -2);
    expect('EXPIRE', await r.expire('io:exp', 100), 1);
    const ttl = await r.ttl('io:exp');
    expectTrue('TTL after EXPIRE 100', ttl >= 98 && ttl <= 100, `got ${ttl}`);
    const pttl = await r.pttl('io:exp');
    expectTrue('PTTL', pttl > 98000 && pttl <= 100000, `got ${pttl}`);
    expect('SET EX', await r.set('io:exp2', 'v', 'EX', 50), 'OK');
    const ttl2 = await r.ttl('io:exp2');
    expectTrue('TTL after SET EX 50', ttl2 >= 48 && ttl2 <= 50, `got ${ttl2}`);
    expect('PEXPIRE', await r.pexpire('io:exp2', 1), 1);
    await new Promise((res) => setTimeout(res, 50));
    expect('GET after PEXPIRE 1 ms', await r.get('io:exp2'), null);
    expect('PERSIST', await r.persist('io:exp'), 1);
    expect('TTL after PERSIST', await r.ttl('io:exp'), -1);
  });

  await check('del/exists', async () => {
    await r.mset('io:d1', '1', 'io:d2', '2');
    expect('EXISTS', await r.exists('io:d1', 'io:d2', 'io:dx'), 2);
    expect('DEL', await r.del('io:d1', 'io:d2', 'io:dx'), 2);
    expect('EXISTS after DEL', await r.exists('io:d1'), 0);
  });

  await check('pipeline()', async () => {
    const res = await r.pipeline()
      .set('io:p:a', '1')
      .incr('io:p:a')
      .get('io:p:a')
      .mget('io:p:a', 'io:p:none')
      .expire('io:p:a', 100)
      .ttl('io:p:a')
      .del('io:p:a')
      .exec();
    expect('pipeline results', res, [[null, 'OK'], [null, 2], [null, '2'],
      [null, ['2', null]], [null, 1], [null, 100], [null, 1]]);
    const p = r.pipeline();
    for (let i = 0; i < 200; i++) {
      p.set(`io:p:${i}`, String(i));
    }
    for (let i = 0; i < 200; i++) {
      p.get(`io:p:${i}`);
    }
    const many = await p.exec();
    expect('200 SET + 200 GET errors', many.filter(([e]) => e).length, 0);
    expect('200 GET values', many.slice(200).map(([, v]) => v),
      Array.from({ length: 200 }, (_, i) => String(i)));
    await r.set('io:p:str', 'abc');
    const withErr = await r.pipeline().incr('io:p:str').get('io:p:str').exec();
    expectTrue('pipeline error entry', withErr[0][0] instanceof Error
      && /not an integer/.test(withErr[0][0].message),
    `got ${withErr[0]}`);
    expect('pipeline goes on after error', withErr[1], [null, 'abc']);
  });

  await check('multi/exec', async () => {
    const res = await r.multi()
      .set('io:t:a', '1')
      .incr('io:t:a')
      .get('io:t:a')
      .exec();
    expect('MULTI/EXEC results', res, [[null, 'OK'], [null, 2], [null, '2']]);
    // A runtime error inside EXEC is that entry's error.
    await r.set('io:t:s', 'abc');
    const rt = await r.multi().incr('io:t:s').set('io:t:b', 'x').exec();
    expectTrue('EXEC runtime error entry', rt[0][0] instanceof Error, `${rt}`);
    expect('EXEC goes on after runtime error', rt[1], [null, 'OK']);
    // A queue-time error aborts the whole transaction (EXECABORT).
    const e = await rejection('EXEC after queue-time error',
      r.multi().set('io:t:c', '1').call('set', 'io:t:c').exec());
    expectTrue('EXECABORT', /EXECABORT/.test(e.message), `got ${e.message}`);
    expect('EXECABORT ran nothing', await r.get('io:t:c'), null);
    // multi({ pipeline: false }): each command answered QUEUED.
    expect('MULTI', await r.multi({ pipeline: false }), 'OK');
    expect('SET queued', await r.set('io:t:d', 'q'), 'QUEUED');
    expect('EXEC', await r.exec(), [[null, 'OK']]);
  });

  await check('watch: EXEC aborted by another client', async () => {
    const other = new Redis(env.port);
    try {
      await r.set('io:w', '0');
      expect('WATCH', await r.watch('io:w'), 'OK');
      await other.set('io:w', '100');
      const res = await r.multi().set('io:w', '1').exec();
      expect('EXEC after a concurrent write', res, null);
      expect('value', await r.get('io:w'), '100');
      expect('WATCH again', await r.watch('io:w'), 'OK');
      const ok = await r.multi().set('io:w', '101').exec();
      expect('EXEC with untouched WATCH', ok, [[null, 'OK']]);
    } finally {
      other.disconnect();
    }
  });

  await check('scanStream over 500 keys', async () => {
    await r.flushdb();
    const p = r.pipeline();
    for (let i = 0; i < 500; i++) {
      p.set(`io:scan:${i}`, i);
    }
    p.set('io:other', 'x');
    await p.exec();
    const got = [];
    await within('scanStream', 30000, new Promise((resolve, reject) => {
      const s = r.scanStream({ match: 'io:scan:*', count: 100 });
      s.on('data', (keys) => got.push(...keys));
      s.on('end', resolve);
      s.on('error', reject);
    }));
    const want = Array.from({ length: 500 }, (_, i) => `io:scan:${i}`);
    const gotSet = new Set(got);
    const missing = want.filter((k) => !gotSet.has(k));
    expect('keys missing from scanStream', missing.slice(0, 5), []);
    expect('non-matching keys from scanStream',
      got.filter((k) => !k.startsWith('io:scan:')), []);
    expect('distinct keys', gotSet.size, 500);
    const all = [];
    await new Promise((resolve, reject) => {
      const s = r.scanStream();
      s.on('data', (keys) => all.push(...keys));
      s.on('end', resolve);
      s.on('error', reject);
    });
    expect('scanStream() with defaults: distinct keys', new Set(all).size, 501);
    expect('KEYS io:scan:49*', (await r.keys('io:scan:49*')).sort(),
      ['io:scan:49', ...Array.from({ length: 10 }, (_, i) => `io:scan:49${i}`)]
        .sort());
  });

  await check('info', async () => {
    const info = await r.info();
    expectTrue('INFO is a string', typeof info === 'string', typeof info);
    expectTrue('INFO redis_version', /^redis_version:\d/m.test(info));
    expectTrue('INFO loading:0', /^loading:0\r?$/m.test(info));
    expectTrue('INFO connected_clients', /^connected_clients:\d+/m.test(info));
    const ks = await r.info('keyspace');
    expectTrue('INFO keyspace db0', /^db0:keys=501,expires=\d+/m.test(ks),
      JSON.stringify(ks));
    expect('DBSIZE', await r.dbsize(), 501);
  });

  await check('error replies reject with ReplyError', async () => {
    await r.set('io:err', 'abc');
    const e1 = await rejection('INCR on a string', r.incr('io:err'));
    expectTrue('INCR error is a ReplyError', e1 instanceof Redis.ReplyError,
      `${e1 && e1.constructor.name}`);
    expectTrue('INCR message', /not an integer/.test(e1.message), e1.message);
    const e2 = await rejection('unknown command', r.call('nosuchcommand', 'a'));
    expectTrue('unknown command message', /unknown command/i.test(e2.message),
      e2.message);
    const e3 = await rejection('wrong arity', r.call('get'));
    expectTrue('arity message', /wrong number of arguments/.test(e3.message),
      e3.message);
    expect('PING after errors', await r.ping(), 'PONG');
    expect('connection errors', errors.map((e) => e.message), []);
  });

  await check('connectionName option, CLIENT SETNAME/GETNAME/LIST', async () => {
    const n = new Redis(env.port, { connectionName: 'io-smoke' });
    try {
      await ready(n);
      expect('CLIENT GETNAME', await n.client('GETNAME'), 'io-smoke');
      const list = await n.client('LIST');
      expectTrue('CLIENT LIST has name=io-smoke', / name=io-smoke /.test(list),
        JSON.stringify(list));
      expect('CLIENT SETNAME', await n.client('SETNAME', 'io-2'), 'OK');
      expect('CLIENT GETNAME after SETNAME', await n.client('GETNAME'),
        'io-2');
      const mine = await n.client('INFO');
      // CLIENT SETINFO at connect (ignored by servers without it).
      const lib = /lib-name=(\S*)/.exec(mine);
      console.log(`   CLIENT INFO lib-name: ${lib ? lib[1] || '(empty)'
        : '(no field)'}`);
    } finally {
      n.disconnect();
    }
  });

  if (env.authPort) {
    await check('requirepass: password option', async () => {
      const a = new Redis({ port: env.authPort, password: env.password });
      const aerr = [];
      a.on('error', (e) => aerr.push(e));
      try {
        await ready(a);
        expect('PING', await a.ping(), 'PONG');
        expect('SET', await a.set('io:auth', 'v'), 'OK');
        expect('GET', await a.get('io:auth'), 'v');
        expect('connection errors', aerr.map((e) => e.message), []);
      } finally {
        a.disconnect();
      }
    });

    await check('requirepass: no password reports NOAUTH', async () => {
      const a = new Redis(env.authPort, {
        retryStrategy: () => null, maxRetriesPerRequest: 0,
      });
      try {
        const e = await within('error event', 5000, new Promise((resolve) => {
          a.once('error', resolve);
        }));
        expectTrue('NOAUTH error', /NOAUTH/.test(e.message), e.message);
      } finally {
        a.disconnect();
      }
    });
  } else {
    console.log('note: RINGKV_TEST_AUTH_PORT not set, AUTH checks skipped');
  }

  await check('quit', async () => {
    await r.flushdb();
    expect('QUIT', await r.quit(), 'OK');
    await within('end event', 5000, new Promise((resolve) => {
      if (r.status === 'end') {
        resolve();
      } else {
        r.once('end', resolve);
      }
    }));
    expect('status after QUIT', r.status, 'end');
  });

  await check('disconnect', async () => {
    const d = new Redis(env.port);
    await ready(d);
    expect('PING', await d.ping(), 'PONG');
    const ended = new Promise((resolve) => d.once('end', resolve));
    d.disconnect();
    await within('end event after disconnect', 5000, ended);
    expect('status after disconnect', d.status, 'end');
  });

  return finish();
}

main().then((rc) => process.exit(rc), (e) => {
  console.log(`FAIL: ${e && e.stack}`);
  process.exit(1);
});
