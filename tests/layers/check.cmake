# check.cmake — the build enforces the layers (ctest layer_rule). Run with -DBUILD=<build dir>.
# Builds two probe objects linked exactly as the prospect binary's sources are: one including
# only façade and base headers must compile; one including store.h must fail, and fail on that
# include (not on something else), so the test cannot pass by accident.
foreach(probe ok bad)
  execute_process(COMMAND ${CMAKE_COMMAND} --build ${BUILD} --target px_layer_probe_${probe}
                  RESULT_VARIABLE rc OUTPUT_VARIABLE out ERROR_VARIABLE out)
  set(rc_${probe} ${rc})
  set(out_${probe} "${out}")
endforeach()
if(NOT rc_ok EQUAL 0)
  message(FATAL_ERROR "a front-end file with façade and base headers does not build:\n${out_ok}")
endif()
if(rc_bad EQUAL 0)
  message(FATAL_ERROR "a front-end file that includes store.h compiled: the layer rule is not enforced")
endif()
if(NOT out_bad MATCHES "store\\.h")
  message(FATAL_ERROR "the probe failed, but not on its store.h include:\n${out_bad}")
endif()
message(STATUS "layer rule holds: store.h is not reachable from a front end")
