"""The daemon-less Dockerfile builder."""
