#pragma once
// Picks a face out of a TrueType collection by family name.
#include <string>
#include <vector>

namespace exam::app {

// Index of the face whose family name is `family` in the collection `data`, or -1.
int FindFaceByFamily(const std::vector<unsigned char>& data, const std::string& family);

}  // namespace exam::app
