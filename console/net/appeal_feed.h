#pragma once
// (to be written) appeal feed of the support desk.
