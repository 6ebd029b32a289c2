#pragma once
// (to be written) help feed of the support desk.
