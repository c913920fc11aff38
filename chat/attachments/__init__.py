"""Files sent with a message: images, text files and PDFs (docs/attachments.md).

- ``models``: ``Attachment`` (one upload of one user, pending until a message uses it) and
  ``VisionModel`` (the operator's additions to the table of models that can see images).
- ``validation``: what a file is, decided from its content; images re-encoded, PDF text read.
- ``storage``: the files themselves, by content hash, through Django's storage API.
- ``vision``: which provider/model can see images.
- ``services``: upload, attach to a message, the sweep; ``selectors``: the one access check.
- ``content``: what the models are sent for a message's attachments (``chat.context`` uses it).
- ``api``: upload, metadata, download, vision.

Imports chat's low-level modules (models, errors) and ``chat.providers``' request types; nothing
of chat imports it except ``chat.models`` (the models), the services of a send, the context, the
export and the URLconf.
"""
