"""Turning call recordings into transcripts: audio probing and decoding, the faster-whisper
engine, and the job that writes a session's messages."""
