"""False publicity in texts: absolute terms, medical claims, prohibited items, lures, personal data, live-stream claims."""
