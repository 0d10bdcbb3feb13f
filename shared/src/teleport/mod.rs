//! Running `tctl`/`tsh` safely and parsing what they print into typed models.
