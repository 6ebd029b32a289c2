#include "net/help_feed.h"
