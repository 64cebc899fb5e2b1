#include "daemon/parse/parse.h"
