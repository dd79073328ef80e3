//! The inbox in headless Chromium (written in the next step).
