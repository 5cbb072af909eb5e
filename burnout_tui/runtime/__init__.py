"""The session runtime: the runners that drive a session and the frame pipeline they share.

`runner` owns a session's life (store, recording, forecasts); `capture` and `analyze` are its
two sources (a camera thread, a recorded file); `pipeline` turns a frame into measures
through `face_stages` and `face_policy`; `recording` writes and reads session files. It sits
between the front ends (`cli`, `tui`) and the headless domain (`store`, `vision`, `scoring`, …).
"""
