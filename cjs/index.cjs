// batch-events is an ES module. Where Node can require() an ES module (22.12 and later, or 20.17+
// with --experimental-require-module) this returns the same API; on older Node it says what to do
// instead of throwing ERR_PACKAGE_PATH_NOT_EXPORTED or ERR_REQUIRE_ESM.
'use strict';
try {
  module.exports = require('../dist/index.js');
} catch (err) {
  if (err && (err.code === 'ERR_REQUIRE_ESM' || err.code === 'ERR_REQUIRE_ASYNC_MODULE')) {
    const e = new Error(
      "batch-events is an ES module: use `import { processRecords } from 'batch-events'` " +
        "or `const be = await import('batch-events')` (require() works from Node 22.12, or 20.17 with --experimental-require-module)",
    );
    e.code = 'ERR_BATCH_EVENTS_ESM_ONLY';
    throw e;
  }
  throw err;
}
