// ck: the Clearkube launcher and toolbox. Every command lives in ck_launcher (compose/launcher.h).
#include <iostream>

#include "compose/launcher.h"

int main(int argc, char** argv) { return ck::launcher::RunCk(argc, argv, std::cout, std::cerr); }
