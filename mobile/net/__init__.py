"""The phone's HTTP transport to the sync server (httpx): device-token auth, a deadline on every
request, gzip bodies, and every outcome mapped to a typed result. No database, no Flet."""
