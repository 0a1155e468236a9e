"""JIRA access: the REST client, reading JIRA's shapes, the fetch into the cache, and the sample
project in JIRA's shape."""
