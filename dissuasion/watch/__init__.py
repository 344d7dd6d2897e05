"""Watch lists (重点关注): people met every week by two responsible people, their meetings, the 台账, and the
monthly community assessment (考评), which reads every domain below."""
