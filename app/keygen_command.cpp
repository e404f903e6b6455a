// murmur keygen --dir DIR --processes P: the CURVE key pairs of a run's
// processes (world.hpp), for runs launched without PMIx.

#include <cstdio>
#include <memory>

#include "commands.hpp"
#include "murmur/actors/world.hpp"

namespace murmur::app {

runner add_keygen_command(CLI::App& cmd) {
  struct args {
    std::string dir;
    std::int64_t processes = 0;
  };
  auto a = std::make_shared<args>();
  cmd.add_option("--dir", a->dir, "where to write process-K.key (secret, mode 0600) and process-K.pub")->required();
  cmd.add_option("--processes", a->processes, "how many processes' pairs")->required()->check(CLI::Range(1, 65536));
  return [a] {
    if (auto ok = actors::write_keys(a->dir, a->processes); !ok) return fail(ok.err().message);
    std::printf("murmur keygen: %lld key pairs in %s; a run names them with [network] keys = \"%s\"\n",
                static_cast<long long>(a->processes), a->dir.c_str(), a->dir.c_str());
    return 0;
  };
}

}  // namespace murmur::app
