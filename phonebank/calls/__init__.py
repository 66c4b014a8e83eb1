"""What volunteers record about calls and door knocks."""
