// divergence.h: judge one operation's two runs after normalisation, and name the difference by a signature.
#pragma once

#include <string>
#include <vector>

#include "differential/case/case.h"
#include "differential/compare/normaliser.h"
#include "differential/runner/replay.h"

namespace instar::diff {

enum class Outcome { match, diverges, inconclusive };

struct Judgement {
  Outcome outcome = Outcome::match;
  std::string why;                  // inconclusive: which side did not finish
  std::vector<std::string> kinds;   // "exit", "stdout", "stderr", "files", "crash", "modified"
  std::vector<std::string> fields;  // normalised differing fields or lines, sorted, unique
  std::string signature;            // "info qcow2 stdout :: -/format-specific/data/compat value"
  std::string signature_id;         // 16 hex digits of a hash of the signature
  std::string diff;                 // a readable account: summaries, unified diffs, JSON field paths
};

// The operation's name and the format of the image it names (its file's extension), for signatures.
std::string operation_format(const Operation& op);

Judgement judge(const Operation& op, const std::vector<Field>& compare, const OperationRun& run,
                const Normaliser& normaliser);

// The first divergent operation's judgement of a whole run (outcome match when none diverges;
// inconclusive when none diverges and one was inconclusive).
Judgement judge_case(const Case& c, const CaseRun& run, const Normaliser& normaliser,
                     size_t* operation = nullptr);

// Stable 64-bit FNV-1a of the signature text, as 16 hex digits.
std::string signature_id(const std::string& signature);

// "Could not open 'x.qcow2': 12 bytes" -> "Could not open '…': N bytes": what stays when a bug recurs.
std::string mask_line(const std::string& line);

}  // namespace instar::diff
