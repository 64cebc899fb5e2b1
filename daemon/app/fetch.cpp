#include "daemon/app/cli.h"
