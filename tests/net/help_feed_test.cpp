// (to be written) tests of net/help_feed.h against the real backend.
