"""Notifications (消息通知): the outbox every feature writes to, the worker that delivers it to the
inbox, the live stream and phone pushes."""
