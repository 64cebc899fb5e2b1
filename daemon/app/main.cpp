#include "daemon/app/cli.h"

int main(int argc, char** argv) { return newsmon::app::Main(argc, argv); }
