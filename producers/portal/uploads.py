"""Uploads: streamed to a temp file by Django's own handler, counted, and stopped at the caps.

The caps are those of intake (``site.yml`` ``intake.max_submission_bytes``): one request, and so one
file, never carries more than a whole submission may hold; ``content.check_upload`` then sniffs what
arrived, and the draft's total is checked against the same cap before a file is kept.
"""

from __future__ import annotations

from django.core.files.uploadhandler import StopUpload, TemporaryFileUploadHandler

from producers.portal import content


class CappedUploadHandler(TemporaryFileUploadHandler):
    def __init__(self, request=None):
        super().__init__(request)
        self.cap = content.limits().max_submission_bytes
        self.received = 0

    def _refuse(self) -> None:
        if self.request is not None:
            self.request.upload_refused = self.cap
        raise StopUpload(connection_reset=True)

    def handle_raw_input(self, input_data, META, content_length, boundary, encoding=None):
        if content_length and content_length > self.cap + 1_000_000:     # room for the other fields
            self._refuse()
        return super().handle_raw_input(input_data, META, content_length, boundary, encoding)

    def receive_data_chunk(self, raw_data, start):
        self.received += len(raw_data)
        if self.received > self.cap:
            self._refuse()
        return super().receive_data_chunk(raw_data, start)
