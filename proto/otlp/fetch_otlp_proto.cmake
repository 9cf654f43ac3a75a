# Fetches the OpenTelemetry protocol's .proto files from Maven Central (the
# io.opentelemetry.proto:opentelemetry-proto jar carries them beside its
# classes), checks the jar against its pinned sha256 and extracts the .proto
# files into OUT. Run by proto/CMakeLists.txt at build time (cmake -P), which
# says why this version.
#   -DMVN=mvn -DVERSION=1.11.0-alpha -DSHA256=... -DOUT=dir
foreach(var MVN VERSION SHA256 OUT)
  if(NOT DEFINED ${var})
    message(FATAL_ERROR "fetch_otlp_proto.cmake: -D${var}= is missing")
  endif()
endforeach()
set(jar ${OUT}/opentelemetry-proto-${VERSION}.jar)
if(NOT EXISTS ${jar})
  # mvn resolves through the local repository (~/.m2) first: a machine that
  # has it fetches nothing. The plugin's version is pinned, not the latest.
  execute_process(
    COMMAND ${MVN} -q -B -Dstyle.color=never
      org.apache.maven.plugins:maven-dependency-plugin:3.8.1:copy
      -Dartifact=io.opentelemetry.proto:opentelemetry-proto:${VERSION}:jar
      -DoutputDirectory=${OUT} -Dmdep.overWriteReleases=true
    RESULT_VARIABLE rc)
  if(NOT rc EQUAL 0 OR NOT EXISTS ${jar})
    message(FATAL_ERROR "mvn could not fetch io.opentelemetry.proto:opentelemetry-proto:${VERSION} (exit ${rc}); Maven Central must be reachable once, after which ~/.m2 has it")
  endif()
endif()
file(SHA256 ${jar} got)
if(NOT got STREQUAL SHA256)
  file(REMOVE ${jar})
  message(FATAL_ERROR "${jar}: sha256 ${got}, want ${SHA256}: not the pinned artifact")
endif()
file(REMOVE_RECURSE ${OUT}/src)
file(ARCHIVE_EXTRACT INPUT ${jar} DESTINATION ${OUT}/src
  PATTERNS "opentelemetry/proto/*.proto")
