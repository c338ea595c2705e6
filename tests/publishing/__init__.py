"""Tests of what is done to sessions before they leave the machine."""
