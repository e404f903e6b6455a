# Third-party libraries, all from Debian bookworm packages (scripts/setup.sh).

find_package(Threads REQUIRED)
find_package(OpenMP REQUIRED)
find_package(TBB REQUIRED)
find_package(fmt REQUIRED)
find_package(spdlog REQUIRED)
find_package(nlohmann_json REQUIRED)
find_package(ZLIB REQUIRED)
find_package(Eigen3 REQUIRED NO_MODULE)

# oneDNN's CMake config pulls in OpenCL for its GPU runtime; murmur uses the CPU
# engine only, so find the library and header by path instead.
find_path(DNNL_INCLUDE_DIR oneapi/dnnl/dnnl.hpp REQUIRED)
find_library(DNNL_LIBRARY dnnl REQUIRED)
add_library(murmur::dnnl INTERFACE IMPORTED)
target_include_directories(murmur::dnnl INTERFACE "${DNNL_INCLUDE_DIR}")
target_link_libraries(murmur::dnnl INTERFACE "${DNNL_LIBRARY}" OpenMP::OpenMP_CXX)

# CLI11 is header-only; Debian ships no CMake config for it.
find_path(CLI11_INCLUDE_DIR CLI/CLI.hpp REQUIRED)
add_library(murmur::cli11 INTERFACE IMPORTED)
target_include_directories(murmur::cli11 INTERFACE "${CLI11_INCLUDE_DIR}")
