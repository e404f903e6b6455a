# `cmake --install`: the layer libraries, their headers, and a
# murmurConfig.cmake so that find_package(murmur) works.
include(GNUInstallDirs)
include(CMakePackageConfigHelpers)

set(murmur_layers murmur_common murmur_topology murmur_protocols murmur_nn murmur_actors)
foreach(lib ${murmur_layers})
  string(REPLACE "murmur_" "" short ${lib})
  set_target_properties(${lib} PROPERTIES EXPORT_NAME ${short})
  install(DIRECTORY ${PROJECT_SOURCE_DIR}/${short}/include/ DESTINATION ${CMAKE_INSTALL_INCLUDEDIR})
endforeach()
install(TARGETS ${murmur_layers} EXPORT murmurTargets
        ARCHIVE DESTINATION ${CMAKE_INSTALL_LIBDIR}
        LIBRARY DESTINATION ${CMAKE_INSTALL_LIBDIR}
        INCLUDES DESTINATION ${CMAKE_INSTALL_INCLUDEDIR})
set(murmur_cmake_dir ${CMAKE_INSTALL_LIBDIR}/cmake/murmur)
install(EXPORT murmurTargets NAMESPACE murmur:: DESTINATION ${murmur_cmake_dir})
configure_package_config_file(${PROJECT_SOURCE_DIR}/cmake/murmurConfig.cmake.in
                              ${PROJECT_BINARY_DIR}/murmurConfig.cmake INSTALL_DESTINATION ${murmur_cmake_dir})
write_basic_package_version_file(${PROJECT_BINARY_DIR}/murmurConfigVersion.cmake COMPATIBILITY SameMinorVersion)
install(FILES ${PROJECT_BINARY_DIR}/murmurConfig.cmake ${PROJECT_BINARY_DIR}/murmurConfigVersion.cmake
              ${PROJECT_SOURCE_DIR}/cmake/murmur_dependencies.cmake DESTINATION ${murmur_cmake_dir})
