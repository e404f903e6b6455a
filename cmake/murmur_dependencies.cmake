# Third-party libraries, all from Debian bookworm packages (scripts/setup.sh),
# found once for the whole tree (and again, the same way, by an installed
# murmurConfig.cmake). Each becomes a target the layers link by name.

include(CMakeFindDependencyMacro)
find_dependency(Threads)
find_dependency(OpenMP)
find_dependency(TBB)
find_dependency(fmt)
find_dependency(spdlog)
find_dependency(nlohmann_json)
find_dependency(ZLIB)
find_dependency(Eigen3 NO_MODULE)
find_dependency(PkgConfig)

# oneDNN's CMake config pulls in OpenCL for its GPU runtime; murmur uses the CPU
# engine only, so find the library and header by path instead.
if(NOT TARGET murmur::dnnl)
  find_path(DNNL_INCLUDE_DIR oneapi/dnnl/dnnl.hpp REQUIRED)
  find_library(DNNL_LIBRARY dnnl REQUIRED)
  add_library(murmur::dnnl INTERFACE IMPORTED)
  target_include_directories(murmur::dnnl INTERFACE "${DNNL_INCLUDE_DIR}")
  target_link_libraries(murmur::dnnl INTERFACE "${DNNL_LIBRARY}" OpenMP::OpenMP_CXX)
endif()

# CAF 0.17 (Debian) ships no CMake config: by path. The test DSL headers are
# part of the same package.
if(NOT TARGET murmur::caf)
  find_path(CAF_INCLUDE_DIR caf/all.hpp REQUIRED)
  find_library(CAF_CORE_LIBRARY caf_core REQUIRED)
  add_library(murmur::caf INTERFACE IMPORTED)
  target_include_directories(murmur::caf INTERFACE "${CAF_INCLUDE_DIR}")
  target_link_libraries(murmur::caf INTERFACE "${CAF_CORE_LIBRARY}")
endif()

# ZeroMQ by pkg-config, with the header-only cppzmq.
if(NOT TARGET murmur::zmq)
  pkg_check_modules(MURMUR_ZMQ REQUIRED IMPORTED_TARGET libzmq)
  find_path(CPPZMQ_INCLUDE_DIR zmq.hpp REQUIRED)
  add_library(murmur::zmq INTERFACE IMPORTED)
  target_include_directories(murmur::zmq INTERFACE "${CPPZMQ_INCLUDE_DIR}")
  target_link_libraries(murmur::zmq INTERFACE PkgConfig::MURMUR_ZMQ)
endif()

# PMIx (libpmix-dev) by pkg-config: rank, size and the endpoint exchange
# under mpirun and srun --mpi=pmix (actors/src/launch.cpp).
if(NOT TARGET murmur::pmix)
  pkg_check_modules(MURMUR_PMIX REQUIRED IMPORTED_TARGET pmix)
  add_library(murmur::pmix INTERFACE IMPORTED)
  target_link_libraries(murmur::pmix INTERFACE PkgConfig::MURMUR_PMIX)
endif()

# toml++ by pkg-config; CLI11 is header-only and ships no CMake config.
if(NOT TARGET murmur::tomlplusplus)
  pkg_check_modules(MURMUR_TOMLPP REQUIRED IMPORTED_TARGET tomlplusplus)
  add_library(murmur::tomlplusplus INTERFACE IMPORTED)
  target_link_libraries(murmur::tomlplusplus INTERFACE PkgConfig::MURMUR_TOMLPP)
endif()
if(NOT TARGET murmur::cli11)
  find_path(CLI11_INCLUDE_DIR CLI/CLI.hpp REQUIRED)
  add_library(murmur::cli11 INTERFACE IMPORTED)
  target_include_directories(murmur::cli11 INTERFACE "${CLI11_INCLUDE_DIR}")
endif()
