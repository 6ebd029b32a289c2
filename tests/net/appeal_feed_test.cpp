// (to be written) tests of net/appeal_feed.h against the real backend.
