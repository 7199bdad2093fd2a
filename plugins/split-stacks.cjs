'use strict';
/**
 * serverless-plugin-split-stacks moves resources into nested stacks so no stack reaches
 * CloudFormation's 500-resource limit (one function per API action makes that limit real).
 * Before splitting it asks CloudFormation which resources an existing stack already holds,
 * which needs AWS credentials. `serverless package` must work offline with no account: when no
 * credentials exist there is no deployed stack to consult, so the split starts from nothing.
 * `deploy` (which has credentials) keeps the plugin's behaviour unchanged.
 */
const SplitStacks = require('serverless-plugin-split-stacks');

class OfflineTolerantSplitStacks extends SplitStacks {
  constructor(serverless, options) {
    super(serverless, options);
    const consult = this.migrateExistingResources;
    this.migrateExistingResources = function () {
      return consult.call(this).catch((e) => {
        if (/credentials/i.test(String(e && e.message))) {
          this.existingResources = {};
          return undefined;
        }
        throw e;
      });
    };
  }
}

module.exports = OfflineTolerantSplitStacks;
