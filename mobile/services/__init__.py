"""Device use cases: each public function is one user action in one local transaction. No Flet."""
