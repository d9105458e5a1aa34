// @tactful/core/testing: what tests of other packages need — the published conformance suites.
// (vitest is a peer dependency of this entry only.)
