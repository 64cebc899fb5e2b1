// The `newsmon` command line: subcommands, options, exit codes.
#pragma once

namespace newsmon::app {

// Exit codes of every subcommand (documented in README.md).
enum ExitCode : int {
  kExitOk = 0,       // success
  kExitFailure = 1,  // a runtime failure: a fetch or parse failed, a store could not open
  kExitUsage = 2,    // invalid usage, config or rules
};

// Parses the command line, runs the subcommand and returns the process exit code.
int Main(int argc, char** argv);

}  // namespace newsmon::app
