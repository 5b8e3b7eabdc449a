// chain_session.h: running an operation over an image and the files it names.
// Core reports the backing or data file it needs; the host resolves the name as
// qemu would, checks it against the allowlist (the image's directory and the
// directories in INSTAR_ALLOW_PATHS), refuses cycles and chains deeper than 16,
// opens the file read-only, attaches it and runs the request again.
#pragma once

#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "cli/io/open_image.h"
#include "cli/program.h"
#include "cli/record_decoder.h"
#include "core/ops/execute.h"

namespace instar::cli {

struct ChainSession {
  std::vector<OpenedImage> files;  // device n is files[n]
  std::vector<std::string> names;  // each device's name as qemu prints it
  DecodedRecord record;            // the final run's record
};

// The output an operation writes (convert, dd): created at the size core asks
// for once the source opened, or opened as it is (-n).
struct OutputSpec {
  std::string path;
  bool skip_create = false;
  // What qemu-img says before a creation error: "<path>: <context>: <error>".
  std::string create_context = "error while converting raw";
};

// Opens `filename` and runs `request` to completion. On failure prints qemu's
// "Could not open '<filename>': ..." line (or the output's error) and returns nullopt.
// compare's second top-level image; `refusal`, when set, is the error its open
// ends with once core asks for it (an unknown -F driver: qemu-img looks the
// driver up only when it opens the second image).
struct SecondImage {
  std::string path;
  std::string refusal;
};

// `second` (compare) is the second top-level image: opened when core asks for
// it (DeviceRole::second_image), after the first chain; its own backing and
// data files are resolved against its name and checked for loops on their own.
// `direct`: the source cache mode makes qemu open every input file (the images,
// their backing and data files, not the output) with O_DIRECT (open_image_readonly).
std::optional<ChainSession> run_chain_session(const Program& program, Request request, const std::string& filename,
                                              const std::optional<OutputSpec>& output = std::nullopt,
                                              const std::optional<SecondImage>& second = std::nullopt,
                                              bool direct = false);

// The name qemu gives the device numbered `number`, or "" if unknown.
std::string device_name(const ChainSession& session, uint64_t number);

// Fills request.name_tail with the end of the image's name (the dmg probe looks at it).
void set_name_tail(Request& request, const std::string& path);

// The directories backing and data files may come from, besides the image's own.
std::vector<std::string> extra_allowed_directories();

}  // namespace instar::cli
