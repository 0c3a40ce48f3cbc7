// bws entry point: everything happens in app::run().
#include "app/cli.hpp"

int main(int argc, char** argv) {
    return bws::app::run(argc, argv);
}
