#pragma once

/// The console's light (the platform's own) or dark palette, on the Fusion style so that the
/// dark palette is honoured everywhere.
namespace Theme {
void apply(bool dark);
}
