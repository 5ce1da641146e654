# ReCLIP++ in the toy world with the rectification-preserving decoder
# (README "Toy world", the recommended variant): the head outputs
# (Q - B) + decoder([dense, Q - B]) and the decoder's last layer (its BN)
# starts at zero, so training starts exactly at the rectified zero-shot
# prediction argmax(Q - B) instead of at a randomly initialised decoder.
# Everything else is configs/reclip_toy.py (the released recipe).
_base_ = ['./reclip_toy.py']
model = dict(decode_head=dict(residual=True, zero_init_decoder=True))
