'use strict';

// mocha's spec reporter, plus the totals written to $GOSFU_MOCHA_SUMMARY as
// JSON so scripts/test.js can print one combined "N passed, N failed" line.
const fs = require('fs');
const Mocha = require('mocha');

const { EVENT_RUN_END, EVENT_TEST_PASS, EVENT_TEST_FAIL, EVENT_TEST_PENDING } = Mocha.Runner.constants;

class SummaryReporter extends Mocha.reporters.Spec {
  constructor(runner, options) {
    super(runner, options);
    const counts = { passed: 0, failed: 0, skipped: 0 };
    runner.on(EVENT_TEST_PASS, () => { counts.passed++; });
    runner.on(EVENT_TEST_FAIL, () => { counts.failed++; });
    runner.on(EVENT_TEST_PENDING, () => { counts.skipped++; });
    runner.once(EVENT_RUN_END, () => {
      if (process.env.GOSFU_MOCHA_SUMMARY) {
        fs.writeFileSync(process.env.GOSFU_MOCHA_SUMMARY, JSON.stringify(counts));
      }
    });
  }
}

module.exports = SummaryReporter;
