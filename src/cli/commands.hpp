#pragma once
namespace safetynet::cli {
// Parses argv per the command-line contract of notes/product.md and runs the command.
// Exit codes: 0 ok, 1 runtime failure, 2 usage or configuration error.
int main(int argc, char** argv);
}  // namespace safetynet::cli
