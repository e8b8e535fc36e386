// A minimal reader of protobuf's wire format, enough to see which kind of
// TypeProto a model's graph inputs and outputs declare. The engine's loader
// keeps only tensor types, so the conformance runner looks at the raw model
// to skip cases built on sequences, maps or optionals.
#pragma once

#include <string>

namespace conformance {

// "" when every graph input and output of the serialized ModelProto is a
// tensor (or declares no type); otherwise a sentence naming the first value
// that is not, e.g. "input 'x' is a sequence". Malformed bytes give "".
std::string firstNonTensorIo(const std::string& modelBytes);

}  // namespace conformance
