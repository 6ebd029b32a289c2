#include "net/appeal_feed.h"
