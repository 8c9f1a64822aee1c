#include "cli/commands.hpp"

int main(int argc, char** argv) { return safetynet::cli::main(argc, argv); }
