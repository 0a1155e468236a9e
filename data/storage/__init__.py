"""Storage: the hash-keyed issue cache and its file format, update staging, the fetch lock, the
in-memory layer, the metric cache, the kept normalized table, settings files, and `ProjectData`, the
hand-over from storage to the engine."""
